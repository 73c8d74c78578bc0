"""PDF output for survey results: multilingual text helpers live in survey_app.pdf.text."""

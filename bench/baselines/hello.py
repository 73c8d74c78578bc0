"""A bare Flask "hello world": the ceiling for a page served by gunicorn on this machine."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"

"""Typed SQLAlchemy models, one module per aggregate."""
from .participant import (
    Delivery,
    DeliveryKind,
    DeliveryState,
    Invitation,
    InvitationStatus,
    MailBatch,
    Participant,
)
from .report import QuoteTranslation, ReportFinding, ReportSettings, TextReview
from .response import Answer, Response, ResponseChannel, ResponseStatus
from .staff import AuditEvent, Role, StaffSession, StaffUser
from .survey import Option, OptionRole, Question, Section, Survey, SurveyState, SurveyStatus
from .totals import NO_COHORT, AnswerTotal, ResponseTotal

__all__ = [
    "NO_COHORT", "Answer", "AnswerTotal", "AuditEvent", "Delivery", "DeliveryKind", "DeliveryState",
    "Invitation", "InvitationStatus", "MailBatch", "Option", "OptionRole", "Participant", "Question",
    "QuoteTranslation", "ReportFinding", "ReportSettings", "Response", "ResponseChannel", "ResponseStatus",
    "ResponseTotal", "Role", "Section",
    "StaffSession", "StaffUser", "Survey", "SurveyState", "SurveyStatus", "TextReview",
]

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
from .response import Answer, Response, ResponseStatus
from .staff import AuditEvent, Role, StaffSession, StaffUser
from .survey import Option, OptionRole, Question, QuestionType, Section, Survey, SurveyState, SurveyStatus

__all__ = [
    "Answer", "AuditEvent", "Delivery", "DeliveryKind", "DeliveryState", "Invitation",
    "InvitationStatus", "MailBatch", "Option", "OptionRole", "Participant", "Question",
    "QuestionType", "Response", "ResponseStatus", "Role", "Section", "StaffSession",
    "StaffUser", "Survey", "SurveyState", "SurveyStatus",
]

"""Questions members collect for the next meeting, and who supports them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField

OPEN, DONE = "open", "done"


class Question(SQLModel, table=True):
    """``asker_ref``/``asker_name`` are None for anonymous questions and after /vergessen.

    ``chat_ref`` is where the question was asked (its group receives the agenda post).
    """

    __table_args__ = {"sqlite_autoincrement": True}  # numbers users see are never reused

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    network_id: int = NetworkIdField()
    asker_ref: str | None = Field(default=None, max_length=200, index=True)
    asker_name: str | None = Field(default=None, max_length=300)
    anonymous: bool = False
    chat_ref: str | None = Field(default=None, max_length=200, index=True)
    status: str = Field(default=OPEN, max_length=10, index=True)
    created_at: datetime = DateTimeField()
    done_at: datetime | None = DateTimeField(nullable=True, default=None)


class QuestionSupport(SQLModel, table=True):
    """One '+1' of one person for one question."""

    __tablename__ = "question_support"
    __table_args__ = (
        UniqueConstraint("question_id", "person_ref", name="uq_question_support_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True, ondelete="CASCADE")
    person_ref: str = Field(max_length=200, index=True)
    created_at: datetime = DateTimeField()

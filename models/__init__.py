"""Tables (SQLAlchemy 2), content and context schemas (pydantic 2) and enums."""

"""The fields a profile reads of each row besides its text, for the Spark and Ray helpers."""

from __future__ import annotations

from typing import Any


def record_fields(profile: Any) -> dict[str, str]:
    """The columns ``profile`` reads of each row besides its text (``Profile.update_arrow``),
    each with its part: the group field, the score fields, the order field."""
    config = profile.config
    fields: dict[str, str] = {}
    if config["group_field"] is not None:
        fields[config["group_field"]] = "the group field"
    for name in config["score_fields"]:
        fields.setdefault(name, "a score field")
    if config["order_field"] is not None:
        fields.setdefault(config["order_field"], "the order field")
    return fields

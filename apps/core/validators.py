"""Validators for text that people type and other people read."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils.deconstruct import deconstructible

# Control, format, private-use, surrogate and unassigned code points: invisible or
# meaningless in a name, and a way to make two records look the same.
FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    "Use letters A-Z, digits, '-', '_' and '.', starting with a letter or digit.",
    code="invalid_code",
)


@deconstructible
class PrintableTextValidator:
    """Reject control and invisible characters; `multiline` allows line breaks and tabs."""

    def __init__(self, multiline=False):
        self.multiline = multiline

    def __call__(self, value):
        allowed = "\n\r\t" if self.multiline else ""
        for character in value:
            if character not in allowed and unicodedata.category(character) in FORBIDDEN_CATEGORIES:
                raise ValidationError(
                    f"Contains a control or invisible character (U+{ord(character):04X}).",
                    code="unprintable",
                )

    def __eq__(self, other):
        return isinstance(other, PrintableTextValidator) and other.multiline == self.multiline


printable_line = PrintableTextValidator()
printable_text = PrintableTextValidator(multiline=True)


# The longest free text people type: a description or a comment, and a shorter note on a
# workflow step or a rating. The API refuses longer text with a field message (400), and the
# models carry the same limits for the admin and every service that validates.
TEXT_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 2000


def text_field(max_length=TEXT_MAX_LENGTH, **kwargs):
    """A multi-line free-text model field, limited to `max_length` characters (a TextField's
    max_length alone is only a form hint, so the validator enforces it)."""
    return models.TextField(
        max_length=max_length, validators=[MaxLengthValidator(max_length)], **kwargs
    )

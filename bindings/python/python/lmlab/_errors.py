"""lmlab's exceptions. Every error lmlab raises derives from :class:`Error`; the message is the
one the ``lmlab`` command prints."""


class Error(Exception):
    """Base class of every lmlab error."""


class FileNotFound(Error, FileNotFoundError):
    """A file that does not exist (also a ``FileNotFoundError``)."""


class FileError(Error, OSError):
    """A file that cannot be read or written (also an ``OSError``)."""


class InvalidInput(Error, ValueError):
    """A bad file, option or argument (also a ``ValueError``)."""


class InvalidType(Error, TypeError):
    """An argument of the wrong type (also a ``TypeError``)."""


def require_str(name, value):
    """Raises :class:`InvalidType` unless ``value`` is a ``str``."""
    if not isinstance(value, str):
        raise InvalidType(f"{name} must be a str, got {type(value).__name__}")
    return value

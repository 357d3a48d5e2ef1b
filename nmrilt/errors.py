"""Exceptions and warnings raised by nmrilt.

Every error a user can cause derives from :class:`NmriltError`, so scripts and the
CLI can catch one class.  Messages name the file or parameter at fault and say
what to do about it.
"""

from __future__ import annotations


class NmriltError(Exception):
    """Base class of every error nmrilt raises on purpose."""


class NmriltWarning(UserWarning):
    """Base class of nmrilt's warnings (e.g. a list longer than TD, kept FIDs only)."""


# --- reading -------------------------------------------------------------------------------


class ReadError(NmriltError):
    """An experiment folder or data file could not be read."""


class NotAnExperimentError(ReadError):
    """The path is not an experiment folder or data file nmrilt recognises."""


class ParameterFileError(ReadError):
    """A parameter file (acqus, acqu2s, procpar, ...) is missing or unreadable."""


class MissingListError(ReadError):
    """A variable list (vdlist, vclist, difflist, ...) the experiment needs is absent."""


class ListFormatError(ReadError):
    """A variable list has a line that cannot be parsed."""


class ListLengthError(ReadError):
    """A variable list is shorter than the number of increments acquired."""


class TruncatedDataError(ReadError):
    """The binary data file holds no complete increment (or less than promised)."""


class UnsupportedDataTypeError(ReadError):
    """The binary data type (e.g. Bruker DTYPA) is not one nmrilt can decode."""


class UnknownPulseProgramError(ReadError):
    """No built-in axis recipe knows the pulse program; the user must give one."""


class ReadWarning(NmriltWarning):
    """Something in the raw data was unusual but could be handled (said in the message)."""


# --- inverting and processing ----------------------------------------------------------------


class InversionInputError(NmriltError, ValueError):
    """Data, sampling vectors, grids, kernels or options given to the solver are inconsistent."""


class ProcessingError(NmriltError, ValueError):
    """An experiment cannot be turned into an inversion problem with the given settings."""


class ConfigError(NmriltError, ValueError):
    """An ``nmrilt.toml`` file or a settings argument is invalid."""


# --- writing ---------------------------------------------------------------------------------


class OutputError(NmriltError):
    """Results cannot be written (read-only folder, existing result without ``force``)."""


class ResultFileError(OutputError):
    """A ``result.h5`` given to read back is missing, foreign or unreadable (an *input*
    error of ``nmrilt plot``: exit code 2)."""


class ResultExistsError(OutputError):
    """A finished result is already present and ``force`` was not given."""

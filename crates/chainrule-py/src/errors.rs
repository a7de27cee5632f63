//! chainrule's errors as Python exceptions, with chainrule's message.

use chainrule::Error;
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

/// The Python exception for a chainrule error: `ValueError` for bad input
/// (formulas, matrix expressions and their values, ranges, hyperparameters), `IndexError` for indices,
/// `RuntimeError` where PyTorch raises one (shapes, the graph, backward).
pub(crate) fn err(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Parse { .. }
        | Error::UnboundVariable { .. }
        | Error::InvalidRange { .. }
        | Error::InvalidHyperparameter { .. }
        | Error::InvalidBeta { .. }
        | Error::InvalidStep { .. }
        | Error::InvalidNoise { .. }
        | Error::EmptyList { .. }
        | Error::ClassOutOfRange { .. }
        | Error::MatrixSizeMismatch { .. }
        | Error::MatrixOperand { .. }
        | Error::MatrixDuplicateDeclaration { .. }
        | Error::MatrixTooManyAxes { .. }
        | Error::MatrixNoForm { .. }
        | Error::MatrixHessian { .. }
        | Error::MatrixUnknownName { .. }
        | Error::MatrixValue { .. }
        | Error::MatrixUnboundSize { .. } => PyValueError::new_err(msg),
        Error::IndexOutOfRange { .. }
        | Error::TooManyIndices { .. }
        | Error::RangeOutOfRange { .. } => PyIndexError::new_err(msg),
        _ => PyRuntimeError::new_err(msg),
    }
}

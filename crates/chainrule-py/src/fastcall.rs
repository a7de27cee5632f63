//! A Python builtin function bound to a native object, called by CPython's
//! vectorcall protocol (`METH_FASTCALL`): the arguments arrive as a C array,
//! with no argument tuple, no keyword dict and no per-call argument parsing.
//!
//! pyo3 (0.30) gives a `#[pyclass]`'s `__call__` only CPython's generic
//! `tp_call` slot, which packs the arguments into a tuple on every call
//! (PyO3/pyo3#4252, "support `__vectorcalloffset__` for `__call__`", is
//! open). A builtin method bound to the object (`obj.method`, CPython's
//! `builtin_function_or_method`) takes the fast path instead; this module
//! makes one per object, named by the object ([`MethodDef`]), so that its
//! `repr` and `__name__` say what it computes.

use std::ffi::{c_char, CString};

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyo3::types::PyString;
use pyo3::PyClass;

/// The C entry CPython calls: `(self, args, nargs)`, CPython's
/// `_PyCFunctionFast` (pyo3's binding types `args` as `*mut`; CPython
/// never lets the callee write to it).
pub(crate) type FastEntry = ffi::PyCFunctionFast;

/// A `PyMethodDef` with the name and doc it points to, owned by the native
/// object its functions are bound to (so it outlives them: a bound function
/// holds a reference to that object).
pub(crate) struct MethodDef {
    def: Box<ffi::PyMethodDef>,
    _name: CString,
    _doc: CString,
}

// SAFETY: the PyMethodDef is written once, in `MethodDef::new`, and only
// read after that (by CPython, attached to the interpreter); its pointers
// are to a `'static` function and to the two CStrings beside it, which
// live as long as it does and never move (their buffers are on the heap).
unsafe impl Send for MethodDef {}
// SAFETY: as for Send: nothing is ever written through a shared reference.
unsafe impl Sync for MethodDef {}

impl MethodDef {
    /// A `METH_FASTCALL` definition of `entry` named `name` (interior NULs
    /// become spaces) with the doc string `doc`.
    pub(crate) fn new(name: &str, doc: &str, entry: FastEntry) -> MethodDef {
        let c = |s: &str| CString::new(s.replace('\0', " ")).unwrap_or_default();
        let (name, doc) = (c(name), c(doc));
        let def = Box::new(ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunctionFast: entry,
            },
            ml_flags: ffi::METH_FASTCALL,
            ml_doc: doc.as_ptr() as *const c_char,
        });
        MethodDef {
            def,
            _name: name,
            _doc: doc,
        }
    }
}

/// A native class whose objects own a [`MethodDef`] whose entry expects
/// `self` to be such an object.
pub(crate) trait HasFastEntry: PyClass<Frozen = True> + Sync {
    /// The definition the bound function is made from.
    fn method_def(&self) -> &MethodDef;
}

/// `obj`'s definition as a builtin function bound to `obj`, whose
/// `__module__` is `module`.
pub(crate) fn bound_function<'py, T: HasFastEntry>(
    obj: &Bound<'py, T>,
    module: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let module = PyString::new(py, module);
    let def: *const ffi::PyMethodDef = &*obj.get().method_def().def;
    // SAFETY: attached to the interpreter (`py`); `def` is a valid
    // METH_FASTCALL definition owned by `obj`, which the new function keeps
    // alive (CPython takes a reference to its `self`), so `def` outlives it;
    // CPython never writes through the pointer. The result is a new
    // reference, or NULL with an exception set.
    unsafe {
        let f = ffi::PyCMethod_New(
            def as *mut ffi::PyMethodDef,
            obj.as_ptr(),
            module.as_ptr(),
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, f)
    }
}

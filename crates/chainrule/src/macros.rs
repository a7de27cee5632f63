//! Macros used inside the crate.

/// Defines the panicking twins of `try_` functions, so that one place says
/// what "the panicking form of `try_x`" is: `x` takes the same arguments,
/// returns `try_x`'s value and panics with `try_x`'s error as the message.
///
/// ```ignore
/// panicking! {
///     /// The docs of `x`, with a `# Panics` section.
///     pub fn x(&self, shape: &[usize]) -> Tensor = try_x;
///     /// An associated function; a message prefix (`"x: {error}"`).
///     pub fn y(tensors: &[Tensor]) -> Tensor = try_y, "y";
/// }
/// ```
macro_rules! panicking {
    () => {};
    (@panic $e:ident) => {
        panic!("{}", $e)
    };
    (@panic $e:ident, $prefix:literal) => {
        panic!("{}: {}", $prefix, $e)
    };
    (
        $(#[$doc:meta])*
        $vis:vis fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty
            = $try:ident $(, $prefix:literal)?;
        $($rest:tt)*
    ) => {
        $(#[$doc])*
        $vis fn $name(&self $(, $arg: $ty)*) -> $ret {
            match self.$try($($arg),*) {
                Ok(value) => value,
                Err(e) => $crate::macros::panicking!(@panic e $(, $prefix)?),
            }
        }
        $crate::macros::panicking! { $($rest)* }
    };
    (
        $(#[$doc:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty
            = $try:ident $(, $prefix:literal)?;
        $($rest:tt)*
    ) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            match Self::$try($($arg),*) {
                Ok(value) => value,
                Err(e) => $crate::macros::panicking!(@panic e $(, $prefix)?),
            }
        }
        $crate::macros::panicking! { $($rest)* }
    };
}

pub(crate) use panicking;

/// Defines `fn name(args)` running `body(args)` (an `#[inline(always)]`
/// function of the same arguments) compiled for AVX2 where the processor
/// has it, else as the baseline build compiles it: the same IEEE operations
/// in either (Rust contracts no multiply-add into an FMA), so the same bits,
/// four values a vector instead of two.
///
/// ```ignore
/// avx2_twin! {
///     /// The docs of `tanh_lanes`.
///     pub(crate) fn tanh_lanes(u: &[f64], out: &mut [f64]) = tanh_lanes_body;
/// }
/// ```
macro_rules! avx2_twin {
    (
        $(#[$doc:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) = $body:ident;
    ) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the processor has AVX2 (checked on the line above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use avx2_twin;

#[cfg(test)]
mod tests {
    use crate::Tensor;

    /// The panic message of `f`.
    fn message(f: impl FnOnce()) -> String {
        let payload =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("it panics");
        match payload.downcast::<String>() {
            Ok(s) => *s,
            Err(p) => p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn a_panicking_twin_panics_with_its_try_forms_error() {
        let x = Tensor::ones(&[2, 3]);
        let e = x.try_reshape(&[4]).unwrap_err().to_string();
        assert_eq!(message(|| drop(Tensor::ones(&[2, 3]).reshape(&[4]))), e);
        let parts = [Tensor::ones(&[2]), Tensor::ones(&[3])];
        let e = Tensor::try_stack(&parts, 0).unwrap_err().to_string();
        assert_eq!(message(move || drop(Tensor::stack(&parts, 0))), e);
        let e = x.try_item().unwrap_err().to_string();
        assert_eq!(
            message(|| {
                let _ = Tensor::ones(&[2, 3]).item();
            }),
            format!("item: {e}")
        );
    }
}

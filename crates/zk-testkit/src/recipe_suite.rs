//! Recipe cases written once and stamped per backend: the [`recipe_suite!`](crate::recipe_suite!) macro and the
//! check that its case list is complete.
//!
//! A recipe crate writes its behaviour as plain async functions in one file of its tests
//! (here `tests/it/cases.rs`), each taking only the backend, lists them with
//! [`recipe_suite!`](crate::recipe_suite!), and stamps them once per backend; each case becomes a `#[tokio::test]` of
//! its own name in the stamping module:
//!
//! ```
//! // tests/it/main.rs
//! #[macro_use] // the stamping macro is visible in the modules declared after this one
//! mod cases {
//!     // tests/it/cases.rs
//!     use zk_core::CreateOptions;
//!     use zk_testkit::Backend;
//!
//!     pub(crate) async fn a_widget_is_a_node(backend: &dyn Backend) {
//!         let zk = backend.connect().await;
//!         let path = format!("/widget-{}", uuid::Uuid::new_v4());
//!         zk.create(&path, b"", &CreateOptions::ephemeral()).await.unwrap();
//!         assert!(zk.exists(&path).await.unwrap().is_some());
//!     }
//!
//!     zk_testkit::recipe_suite! {
//!         /// Stamps every widget case for one backend.
//!         macro widget_cases;
//!         module = crate::cases;
//!         // In a real crate: include_str!("cases.rs").
//!         source = "pub(crate) async fn a_widget_is_a_node(backend: &dyn Backend) {";
//!         cases = [a_widget_is_a_node];
//!     }
//! }
//!
//! mod on_fake {
//!     widget_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);
//! }
//!
//! mod on_real {
//!     widget_cases!(backend = zk_testkit::WireBackend::shared(), time = real);
//! }
//! # fn main() {}
//! ```
//!
//! The suite also gets a test, `every_case_is_listed`, that reads `source` and fails when a
//! case function (a `pub(crate) async fn` or `pub async fn` whose only parameter is a
//! `&dyn Backend`) is missing from `cases`, or `cases` names one that does not exist; so a case
//! never silently runs on one backend only. Helpers with other parameters are not cases.
//!
//! `time = paused` runs each case on a current-thread runtime with tokio's clock paused, which
//! suits the fake (its timeouts and sweeps are on tokio time, so they pass instantly);
//! `time = real` runs on a two-worker runtime with the wall clock, for real servers. Every case
//! runs under an overall limit of [`crate::case_timeout`].

use std::collections::BTreeSet;

/// The names of the case functions in `source`: top-level `pub(crate) async fn` or
/// `pub async fn` items whose only parameter has type `&dyn Backend`.
pub fn case_functions(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lines: Vec<&str> = source.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        let Some(first) = line
            .strip_prefix("pub(crate) async fn ")
            .or_else(|| line.strip_prefix("pub async fn "))
        else {
            continue;
        };
        // rustfmt wraps a long signature: read on until the parameter list closes.
        let mut rest = first.to_owned();
        for more in lines.iter().skip(at + 1).take(4) {
            if rest.contains(')') {
                break;
            }
            rest.push(' ');
            rest.push_str(more.trim());
        }
        let Some((name, params)) = rest.split_once('(') else {
            continue;
        };
        let Some((params, _)) = params.split_once(')') else {
            continue;
        };
        // A wrapped parameter list ends with a comma.
        let params = params.trim().trim_end_matches(',');
        let only_backend = params
            .split_once(':')
            .is_some_and(|(_, ty)| ty.trim() == "&dyn Backend");
        if only_backend && !params.contains(',') {
            found.push(name.trim().to_owned());
        }
    }
    found
}

/// Panics, naming the differences, unless `listed` holds exactly the case functions of
/// `source` (see [`case_functions`]), each once.
///
/// # Panics
/// When a case is missing from the list, listed but not defined, or listed twice.
#[track_caller]
pub fn assert_cases_listed(source: &str, listed: &[&str]) {
    let defined: BTreeSet<String> = case_functions(source).into_iter().collect();
    let named: BTreeSet<String> = listed.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(
        named.len(),
        listed.len(),
        "a case is listed twice: {listed:?}"
    );
    let unlisted: Vec<&String> = defined.difference(&named).collect();
    let undefined: Vec<&String> = named.difference(&defined).collect();
    assert!(
        unlisted.is_empty() && undefined.is_empty(),
        "the case list is out of date: defined but not listed {unlisted:?}; \
         listed but not defined {undefined:?}"
    );
    assert!(!listed.is_empty(), "a suite without cases tests nothing");
}

/// Defines a macro that stamps a recipe's cases for one backend, plus a `CASES` list and a
/// test that the list is complete. See the [module docs](mod@crate::recipe_suite) for an example.
///
/// * `macro`: the name of the macro to define; invoke it as
///   `name!(backend = <expr>, time = paused | real)`. `backend` is evaluated at the start of
///   every test (it may `.await`) and implements [`crate::Backend`].
/// * `module`: the path of the module holding the case functions.
/// * `source`: that module's source text (`include_str!` of its file), for the completeness
///   check.
/// * `cases`: every case function, in the order to stamp them.
#[macro_export]
macro_rules! recipe_suite {
    (
        $(#[$doc:meta])*
        macro $name:ident;
        module = $($module:ident)::+;
        source = $source:expr;
        cases = [$($case:ident),* $(,)?] $(;)?
    ) => {
        $crate::__recipe_suite!(($) [$(#[$doc])*] $name [$($module)::+] $source, [$($case),*]);
    };
}

/// The body of [`recipe_suite!`](crate::recipe_suite!); `$d` carries a `$` into the macro it defines.
#[doc(hidden)]
#[macro_export]
macro_rules! __recipe_suite {
    (($d:tt) [$($doc:tt)*] $name:ident [$($module:tt)*] $source:expr, [$($case:ident),*]) => {
        /// Every case of this suite, in stamping order.
        #[allow(dead_code)]
        pub(crate) const CASES: &[&str] = &[$(stringify!($case)),*];

        #[test]
        fn every_case_is_listed() {
            $crate::recipe_suite::assert_cases_listed($source, CASES);
        }

        $($doc)*
        macro_rules! $name {
            (backend = $d backend:expr, time = $d time:ident $d(,)?) => {
                $crate::__with_time_attr!(
                    $d time,
                    __stamp_recipe_cases!($d backend, [$($module)*], [$($case),*])
                );
            };
        }
    };
}

/// One test per recipe case, each under [`crate::case_timeout`].
#[doc(hidden)]
#[macro_export]
macro_rules! __stamp_recipe_cases {
    ($attr:tt $backend:expr, $module:tt, [$($case:ident),*]) => {
        $($crate::__stamp_case!($attr $backend, $module, $case);)*
    };
}

/// Calls `$crate::$callback!([<test attribute>] args...)` with the `#[tokio::test]` attribute
/// of `time`: `paused` (current thread, tokio's clock paused) or `real` (two workers, the wall
/// clock). The one mapping behind [`conformance_suite!`](crate::conformance_suite!) and
/// [`recipe_suite!`](crate::recipe_suite!).
#[doc(hidden)]
#[macro_export]
macro_rules! __with_time_attr {
    (paused, $callback:ident ! ($($args:tt)*)) => {
        $crate::$callback!(
            [$crate::__private::tokio::test(
                crate = "zk_testkit::__private::tokio",
                start_paused = true
            )]
            $($args)*
        );
    };
    (real, $callback:ident ! ($($args:tt)*)) => {
        $crate::$callback!(
            [$crate::__private::tokio::test(
                crate = "zk_testkit::__private::tokio",
                flavor = "multi_thread",
                worker_threads = 2
            )]
            $($args)*
        );
    };
}

/// One case (of either suite) as a test: `module::case(&backend)` under
/// [`crate::case_timeout`].
#[doc(hidden)]
#[macro_export]
macro_rules! __stamp_case {
    ($attr:tt $backend:expr, [$($module:tt)*], $case:ident) => {
        #$attr
        async fn $case() {
            let backend = $backend;
            $crate::timing::within_for($crate::case_timeout(), $($module)*::$case(&backend)).await;
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"
pub(crate) async fn first(backend: &dyn Backend) {}
pub async fn second(b: &dyn Backend) {
}
pub(crate) async fn helper_with_more(backend: &dyn Backend, n: usize) {}
async fn private(backend: &dyn Backend) {}
    pub(crate) async fn nested(backend: &dyn Backend) {}
pub(crate) fn not_async(backend: &dyn Backend) {}
pub(crate) async fn other_type(backend: &FakeBackend) {}
pub(crate) async fn a_name_so_long_that_rustfmt_wraps_it(
    backend: &dyn Backend,
) {
}
pub(crate) async fn wrapped_with_more(
    backend: &dyn Backend,
    n: usize,
) {
}
"#;

    #[test]
    fn cases_are_public_async_fns_taking_only_a_backend() {
        assert_eq!(
            case_functions(SOURCE),
            ["first", "second", "a_name_so_long_that_rustfmt_wraps_it"]
        );
    }

    #[test]
    fn a_complete_list_passes() {
        assert_cases_listed(
            SOURCE,
            &["second", "first", "a_name_so_long_that_rustfmt_wraps_it"],
        );
    }

    #[test]
    #[should_panic(expected = "defined but not listed [\"second\"]")]
    fn an_unlisted_case_fails() {
        assert_cases_listed(SOURCE, &["first", "a_name_so_long_that_rustfmt_wraps_it"]);
    }

    #[test]
    #[should_panic(expected = "listed but not defined [\"helper_with_more\"]")]
    fn a_listed_helper_fails() {
        let listed = [
            "first",
            "second",
            "a_name_so_long_that_rustfmt_wraps_it",
            "helper_with_more",
        ];
        assert_cases_listed(SOURCE, &listed);
    }

    #[test]
    #[should_panic(expected = "listed twice")]
    fn a_case_listed_twice_fails() {
        assert_cases_listed(SOURCE, &["first", "second", "first"]);
    }

    #[test]
    #[should_panic(expected = "tests nothing")]
    fn an_empty_suite_fails() {
        assert_cases_listed("", &[]);
    }
}

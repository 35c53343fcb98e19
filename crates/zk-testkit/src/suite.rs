//! The `conformance_suite!` macro and the list of cases it stamps out.

/// Calls `$crate::$callback! { $args module: [case, ...], ... }` with every case, grouped by
/// module; the single list behind [`crate::CASES`] and [`crate::conformance_suite!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __with_cases {
    ($callback:ident ! ($($args:tt)*)) => {
        $crate::$callback! {
            $($args)*
            create: [
                create_persistent_returns_path_and_stat,
                create_with_empty_data,
                create_existing_node_is_node_exists,
                create_without_parent_is_no_node,
                create_ephemeral_sets_owner,
                create_under_ephemeral_is_no_children_for_ephemerals,
                create_sequential_appends_ten_digits,
                sequence_counter_differs_from_cversion,
                sequence_counter_counts_plain_creates,
                sequential_name_may_be_only_the_number,
                create_updates_parent_stat,
                failed_create_consumes_a_zxid,
                create_with_empty_acl_is_invalid_acl,
                create_with_malformed_acl_is_invalid_acl,
                create_without_create_permission_is_no_auth,
                creator_acl_without_identity_is_invalid_acl,
                creator_acl_expands_to_digest_identity,
                create_modes_report_owner,
            ],
            delete: [
                delete_removes_node,
                delete_missing_is_no_node,
                delete_with_wrong_version_is_bad_version,
                delete_with_any_version,
                delete_with_children_is_not_empty,
                delete_bad_version_beats_not_empty,
                delete_system_paths_is_bad_arguments,
                delete_updates_parent_stat,
                delete_checks_parent_delete_permission,
            ],
            data: [
                set_data_bumps_version_and_mzxid,
                set_data_checks_version,
                data_of_missing_node_is_no_node,
                exists_reports_stat,
                data_permissions_are_enforced,
                large_data_round_trips,
                sync_succeeds_on_any_path,
            ],
            children: [
                get_children_lists_names_and_stat,
                get_children_of_leaf_is_empty,
                get_children_errors,
                all_children_number_counts_descendants,
                get_ephemerals_by_prefix,
                children_follow_creates_and_deletes,
            ],
            acl_auth: [
                default_acl_is_open,
                set_acl_bumps_aversion,
                set_acl_version_is_the_acl_version,
                set_acl_errors_and_precedence,
                set_acl_needs_admin,
                get_acl_needs_read_or_admin,
                digest_acl_admits_authenticated_sessions,
                get_acl_masks_digest_without_admin,
                acls_are_not_inherited,
                several_identities_on_one_session,
                unknown_auth_scheme_fails,
            ],
            multi: [
                multi_applies_every_op_kind,
                multi_failure_rolls_back,
                multi_ops_see_earlier_ops,
                multi_uses_one_zxid,
                multi_sequential_and_ephemeral_creates,
                multi_reports_per_op_errors,
                multi_checks_permissions,
                multi_empty_succeeds,
            ],
            multi_read: [
                multi_read_mixes_results_and_errors,
                multi_read_checks_permissions_per_op,
                multi_read_empty_returns_nothing,
            ],
            watches_oneshot: [
                data_watch_fires_on_set_data,
                data_watch_fires_on_delete,
                oneshot_watch_needs_rearming,
                own_write_notifies_before_its_reply,
                exist_watch_fires_on_create,
                exist_watch_on_existing_node,
                child_watch_fires_on_child_create,
                child_watch_fires_on_deletes,
                child_watch_ignores_data_changes,
                data_watch_ignores_child_changes,
                watched_reads_of_missing_node_are_no_node,
                set_acl_fires_no_watch,
                one_event_fans_out_to_every_watcher,
                dropping_a_watch_keeps_the_others,
                watches_of_several_sessions_fire,
                multi_fires_after_the_transaction,
                oneshot_watch_resolves_closed_on_close,
                data_watch_reports_only_the_first_change,
                exist_watch_reports_the_create_of_a_short_lived_node,
            ],
            watches_persistent: [
                persistent_watch_sees_node_events,
                persistent_watch_ignores_descendants,
                recursive_watch_sees_the_subtree,
                recursive_watch_never_gets_children_changed,
                persistent_watches_fan_out,
                persistent_watch_set_acl_and_multi,
                recursive_watch_sees_ephemeral_cleanup,
                persistent_watch_ends_with_closed,
                notifications_need_read_permission,
                a_slow_persistent_watch_reports_lag,
            ],
            sessions_ephemerals: [
                sessions_are_independent,
                close_deletes_ephemerals_and_notifies,
                closed_session_refuses_requests,
                session_state_follows_close,
                expiry_deletes_ephemerals_and_ends_watches,
                expiry_ends_persistent_watches,
                ephemerals_belong_to_their_session,
                ephemeral_deleted_by_another_session,
            ],
            containers_ttl: [
                container_reports_zero_owner,
                emptied_container_is_swept,
                unused_container_is_kept,
                container_swept_after_ephemeral_child_goes,
                ttl_nodes_report_zero_owner,
                ttl_node_expires,
                ttl_node_with_children_is_kept,
                container_and_ttl_creates_in_multi,
            ],
            ext_helpers: [
                ensure_path_creates_ancestors,
                ensure_container_path_creates_containers,
                create_with_parents_builds_the_chain,
                delete_all_removes_the_subtree,
                if_exists_helpers,
                get_children_sorted_sorts,
            ],
            validation: [
                invalid_paths_are_rejected_locally,
                unusual_but_valid_names_work,
                oversize_data_is_too_large,
                multi_with_invalid_path_is_rejected_locally,
                bad_ttl_arguments_are_rejected,
                trailing_slash_only_for_sequential,
                invalid_paths_are_rejected_by_every_operation,
            ],
        }
    };
}

/// Expands the case list into the `CASES` constant.
#[doc(hidden)]
#[macro_export]
macro_rules! __case_names {
    ($args:tt $($module:ident : [$($case:ident),* $(,)?]),* $(,)?) => {
        /// Every case as `module::case`, in suite order: the names of the tests that
        /// [`conformance_suite!`] generates.
        pub const CASES: &[&str] = &[$($(concat!(stringify!($module), "::", stringify!($case))),*),*];
    };
}

/// Expands the case list into one test per case.
#[doc(hidden)]
#[macro_export]
macro_rules! __stamp_cases {
    (($attr:tt $backend:expr) $($module:ident : [$($case:ident),* $(,)?]),* $(,)?) => {
        $(
            #[allow(unused_imports)]
            mod $module {
                use super::*;
                $($crate::__stamp_case!($attr $backend, [$crate::cases::$module], $case);)*
            }
        )*
    };
}

/// Stamps one `#[tokio::test]` per conformance case, named `<module>::<case>`, for a backend.
///
/// ```
/// // In a backend's integration tests (tests/it/conformance.rs):
/// zk_testkit::conformance_suite!(backend = zk_testkit::FakeBackend::new(), time = paused);
/// # mod real {
/// // Against a real server, with real time and the capabilities that server must have:
/// zk_testkit::conformance_suite!(
///     backend = zk_testkit::WireBackend::shared(),
///     time = real,
///     capabilities = zk_testkit::Capabilities::all(),
/// );
/// # }
/// # fn main() {}
/// ```
///
/// * `backend`: an expression evaluated at the start of every test (inside the async test
///   function, so it may `.await`); its type implements [`crate::Backend`].
/// * `time = paused` runs each test with tokio's clock paused (`start_paused = true`), which
///   makes timeouts and sweeps of a backend on tokio time instant; `time = real` uses a
///   multi-threaded runtime and the wall clock, for real servers.
/// * `capabilities` (default [`crate::Capabilities::all()`]) is the set the backend must
///   report; an extra test, `capabilities_are_as_expected`, checks it, so capability-gated cases
///   never drop out unnoticed.
///
/// Every case also runs under an overall limit of [`crate::case_timeout`].
/// The generated tests use the tokio re-exported by this crate, so the calling crate needs no
/// tokio features of its own.
#[macro_export]
macro_rules! conformance_suite {
    (backend = $backend:expr, time = paused $(,)?) => {
        $crate::conformance_suite!(
            backend = $backend,
            time = paused,
            capabilities = $crate::Capabilities::all(),
        );
    };
    (backend = $backend:expr, time = real $(,)?) => {
        $crate::conformance_suite!(
            backend = $backend,
            time = real,
            capabilities = $crate::Capabilities::all(),
        );
    };
    (backend = $backend:expr, time = $time:ident, capabilities = $expected:expr $(,)?) => {
        $crate::__with_time_attr!($time, conformance_suite!(@stamp $backend, $expected));
    };
    ([$($attr:tt)*] @stamp $backend:expr, $expected:expr) => {
        #[$($attr)*]
        async fn capabilities_are_as_expected() {
            let backend = $backend;
            let reported = $crate::Backend::capabilities(&backend);
            let expected: $crate::Capabilities = $expected;
            assert_eq!(
                reported,
                expected,
                "backend {} reports other capabilities than expected",
                $crate::Backend::name(&backend)
            );
        }
        $crate::__with_cases!(__stamp_cases!(([$($attr)*] $backend)));
    };
}

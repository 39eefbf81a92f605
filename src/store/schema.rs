// Diesel schema shared by both backends. Keep in sync with migrations/sqlite and
// migrations/postgres: tests/it/store.rs checks that all three declare the same tables,
// columns, types and nullability.

diesel::table! {
    bills (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        language -> Text,
        jurisdiction -> Text,
        source -> Text,
        licence -> Text,
        summary -> Text,
        next_wid -> BigInt,
        created_at -> Text,
    }
}

diesel::table! {
    versions (id) {
        id -> BigInt,
        bill_id -> BigInt,
        number -> Integer,
        parent_number -> Nullable<Integer>,
        sha256 -> Text,
        date -> Text,
        author -> Text,
        note -> Text,
        source_ref -> Nullable<Text>,
        warnings -> Text,
        created_at -> Text,
        markdown -> Text,
    }
}

diesel::table! {
    unit_revisions (id) {
        id -> BigInt,
        bill_id -> BigInt,
        kind -> Text,
        wid -> Text,
        eid -> Text,
        num -> Nullable<Text>,
        heading -> Nullable<Text>,
        depth -> Integer,
        length -> BigInt,
        sha256 -> Text,
    }
}

diesel::table! {
    version_units (version_id, ord) {
        version_id -> BigInt,
        ord -> Integer,
        revision_id -> BigInt,
        parent -> Nullable<Integer>,
        start_byte -> BigInt,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        consultation_id -> BigInt,
        target_kind -> Text,
        target_id -> BigInt,
        reporter_id -> BigInt,
        reporter_level -> Integer,
        reason -> Text,
        detail -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    moderation_items (target_kind, target_id) {
        target_kind -> Text,
        target_id -> BigInt,
        consultation_id -> BigInt,
        state -> Text,
        rule -> Text,
        reason -> Text,
        open_reports -> Integer,
        queued_at -> Nullable<Text>,
        decision_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    moderation_log (seq) {
        seq -> BigInt,
        at -> Text,
        action -> Text,
        target_kind -> Text,
        target_ref -> Text,
        consultation_id -> Nullable<BigInt>,
        rule -> Text,
        reason -> Text,
        moderator -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    moderation_decisions (seq) {
        seq -> BigInt,
        moderator_id -> Nullable<BigInt>,
        subject_id -> Nullable<BigInt>,
        target_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    moderator_names (account_id) {
        account_id -> BigInt,
        pseudonym -> Text,
    }
}

diesel::table! {
    suspensions (account_id, decision_seq) {
        account_id -> BigInt,
        decision_seq -> BigInt,
        until -> Text,
        lifted -> Integer,
    }
}

diesel::table! {
    appeals (decision_seq) {
        decision_seq -> BigInt,
        author_id -> BigInt,
        body -> Text,
        created_at -> Text,
        status -> Text,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Text>,
        answer -> Text,
    }
}

diesel::table! {
    rate_limits (bucket, window_start) {
        bucket -> Text,
        window_start -> BigInt,
        hits -> Integer,
    }
}

diesel::joinable!(versions -> bills (bill_id));
diesel::joinable!(unit_revisions -> bills (bill_id));
diesel::joinable!(version_units -> versions (version_id));
diesel::joinable!(version_units -> unit_revisions (revision_id));

diesel::table! {
    accounts (id) {
        id -> BigInt,
        provider -> Text,
        subject -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        created_at -> Text,
        last_seen_at -> Text,
    }
}

diesel::table! {
    account_roles (account_id, role) {
        account_id -> BigInt,
        role -> Text,
        granted_by -> Nullable<BigInt>,
        granted_at -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        account_id -> BigInt,
        level -> Integer,
        acr -> Nullable<Text>,
        provider -> Text,
        user_agent -> Text,
        created_at -> Text,
        last_seen_at -> Text,
        expires_at -> Text,
        ended_at -> Nullable<Text>,
        id_token -> Nullable<Text>,
    }
}

diesel::table! {
    oidc_flows (state_hash) {
        state_hash -> Text,
        provider -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        level -> Integer,
        next -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Text,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        subject_id -> Nullable<BigInt>,
        details -> Text,
    }
}

diesel::table! {
    verifications (id) {
        id -> BigInt,
        account_id -> BigInt,
        level -> Integer,
        method -> Text,
        verified_on -> Text,
        expires_on -> Text,
        recorded_by -> BigInt,
        confirmed_by -> Nullable<BigInt>,
        confirmed_at -> Nullable<Text>,
        revoked_by -> Nullable<BigInt>,
        revoked_at -> Nullable<Text>,
        revoke_reason -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    consultations (id) {
        id -> BigInt,
        bill_id -> BigInt,
        version_id -> BigInt,
        title -> Text,
        description -> Text,
        opens_on -> Text,
        closes_on -> Text,
        level_comment -> Integer,
        level_amend -> Integer,
        level_vote -> Integer,
        phase -> Text,
        created_by -> BigInt,
        created_at -> Text,
    }
}

diesel::table! {
    amendments (id) {
        id -> BigInt,
        bill_id -> BigInt,
        number -> Integer,
        consultation_id -> BigInt,
        version_id -> BigInt,
        article_wid -> Text,
        author_id -> BigInt,
        disclosure -> Text,
        author_label -> Text,
        author_level -> Integer,
        status -> Text,
        revision -> Integer,
        form_token -> Text,
        filed_at -> Text,
    }
}

diesel::table! {
    amendment_revisions (amendment_id, revision) {
        amendment_id -> BigInt,
        revision -> Integer,
        operations -> Text,
        justification -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    amendment_dispositions (amendment_id) {
        amendment_id -> BigInt,
        status -> Text,
        reason -> Text,
        fallen_by -> Nullable<BigInt>,
        decided_by -> BigInt,
        decided_at -> Text,
    }
}

diesel::table! {
    consolidations (version_id) {
        version_id -> BigInt,
        consultation_id -> BigInt,
        created_by -> BigInt,
        created_at -> Text,
    }
}

diesel::table! {
    provenance (id) {
        id -> BigInt,
        version_id -> BigInt,
        unit_wid -> Text,
        start_byte -> BigInt,
        end_byte -> BigInt,
        amendment_id -> BigInt,
        revision -> Integer,
    }
}

diesel::table! {
    amendment_rebases (amendment_id, to_version_id) {
        amendment_id -> BigInt,
        from_version_id -> BigInt,
        to_version_id -> BigInt,
        outcome -> Text,
        operations -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    ballot_logs (consultation_id) {
        consultation_id -> BigInt,
        origin -> Text,
        voter_key -> Nullable<Binary>,
        size -> BigInt,
        result_csv -> Nullable<Text>,
        participation -> Nullable<Text>,
        closed_at -> Nullable<Text>,
        destroy_key_after -> Nullable<Text>,
        key_destroyed_at -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    ballot_entries (consultation_id, idx) {
        consultation_id -> BigInt,
        idx -> BigInt,
        entry -> Binary,
        leaf_hash -> Binary,
        voter_token -> Nullable<Binary>,
    }
}

diesel::table! {
    ballot_checkpoints (consultation_id, size) {
        consultation_id -> BigInt,
        size -> BigInt,
        note -> Text,
        created_at -> Text,
    }
}

diesel::table! {
    vote_settings (consultation_id) {
        consultation_id -> BigInt,
        amendments -> Nullable<Text>,
        bill_item -> Integer,
        options -> Text,
        revote -> Text,
        updated_by -> Nullable<BigInt>,
        updated_at -> Text,
    }
}

diesel::table! {
    public_voters (consultation_id, voter_token) {
        consultation_id -> BigInt,
        voter_token -> Binary,
        account_id -> BigInt,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        consultation_id -> BigInt,
        version_id -> BigInt,
        article_wid -> Text,
        unit_wid -> Text,
        amendment_id -> Nullable<BigInt>,
        parent_id -> Nullable<BigInt>,
        quote -> Text,
        body -> Text,
        kind -> Text,
        author_id -> BigInt,
        disclosure -> Text,
        author_label -> Text,
        author_level -> Integer,
        form_token -> Text,
        created_at -> Text,
    }
}

diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(public_voters -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(
    bills,
    versions,
    unit_revisions,
    version_units,
    accounts,
    account_roles,
    sessions,
    audit_log,
    verifications,
    oidc_flows,
    consultations,
    amendments,
    amendment_revisions,
    ballot_logs,
    ballot_entries,
    ballot_checkpoints,
    amendment_dispositions,
    consolidations,
    provenance,
    amendment_rebases,
    vote_settings,
    public_voters,
    comments,
    reports,
    moderation_items,
    moderation_log,
    moderation_decisions,
    moderator_names,
    suspensions,
    appeals,
    rate_limits,
);

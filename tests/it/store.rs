//! Storage layer on the backend chosen by `AMENDA_TEST_DATABASE_URL` (SQLite when unset):
//! round trips, transactions, constraints, concurrency, and agreement between the two
//! migration trees and `src/store/schema.rs`.
//!
//!     cargo test --test it store::
//!     dir=$(mktemp -d); export AMENDA_TEST_DATABASE_URL=$(tests/support/pg.sh start "$dir")
//!     cargo test --test it store::; tests/support/pg.sh stop "$dir"
//!
//! Insert rates: `cargo test --test it store::insert_rate -- --ignored --nocapture`.

use amenda::domain::ids::{BillId, VersionId};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::common::{on_postgres, test_store, unmigrated_test_store};
use amenda::store::{
    self, bills, units, versions, Backend, BillMeta, DbConnection, NewBill, NewVersion, Store,
    StoreError,
};
use amenda::text::{Unit, UnitKind};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_migrations::MigrationHarness;

fn new_bill(slug: &str) -> NewBill {
    NewBill {
        slug: slug.to_owned(),
        meta: BillMeta {
            title: format!("Projet de loi « {slug} »"),
            language: "fr".into(),
            jurisdiction: "FR".into(),
            source: "https://example.invalid/source".into(),
            licence: "Licence Ouverte 2.0".into(),
            summary: "Résumé — avec des caractères non ASCII : œ, ß, 😀".into(),
        },
        next_wid: 1,
    }
}

fn new_version(bill_id: BillId, number: i32, markdown: &str) -> NewVersion {
    NewVersion {
        bill_id,
        number,
        parent_number: (number > 1).then_some(number - 1),
        sha256: amenda_sha(markdown),
        markdown: markdown.to_owned(),
        date: format!("2026-01-{number:02}"),
        author: "Assemblée nationale".into(),
        note: format!("version {number}"),
        source_ref: None,
        warnings: vec![],
    }
}

/// A stand-in for the hash (the store does not check it): unique per text.
fn amenda_sha(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:064x}", h.finish())
}

/// `n` units shaped like a real code: divisions, articles under them, paragraphs under
/// articles, with every optional field both set and unset somewhere.
fn synthetic_units(n: usize, seed: usize) -> Vec<Unit> {
    let mut units = Vec::with_capacity(n);
    let mut division = None;
    let mut article = None;
    let mut offset = 0usize;
    for i in 0..n {
        let (kind, parent) = match i % 23 {
            0 => (UnitKind::Division, None),
            1 | 9 | 16 => (UnitKind::Article, division),
            _ => (UnitKind::Paragraph, article.or(division)),
        };
        let len = 40 + (i * 7 + seed) % 400;
        let unit = Unit {
            kind,
            wid: format!("{}{}", kind.wid_prefix(), i + seed),
            eid: format!("art_{}__para_{}", i / 23, i % 23),
            num: match kind {
                UnitKind::Article => Some(format!("L{}-{}", seed + 1, i)),
                UnitKind::Division => Some(format!("Titre {i} — « ça »")),
                UnitKind::Paragraph => None,
            },
            heading: (kind != UnitKind::Paragraph).then(|| format!("Article L{i} ✓")),
            depth: if kind == UnitKind::Paragraph {
                0
            } else {
                1 + (i % 9) as u8
            },
            parent,
            start: offset,
            end: offset + len,
            sha256: format!("{:064x}", i * 31 + seed),
        };
        offset += len + 2;
        match kind {
            UnitKind::Division => division = Some(i),
            UnitKind::Article => article = Some(i),
            UnitKind::Paragraph => {}
        }
        units.push(unit);
    }
    units
}

#[test]
fn bills_round_trip() {
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let c: &mut DbConnection = &mut conn;

    assert!(bills::list(c).unwrap().is_empty());
    let zeta = bills::insert(c, &new_bill("zeta")).unwrap();
    let alpha = bills::insert(c, &new_bill("alpha")).unwrap();
    assert_ne!(zeta.id, alpha.id);
    assert_eq!(alpha.slug, "alpha");
    assert_eq!(alpha.meta, new_bill("alpha").meta);
    assert_eq!(alpha.next_wid, 1);
    // Read back as an instant (a row whose text is not RFC 3339 would not load).
    assert!(alpha.created_at.unix() > 0);

    assert_eq!(bills::by_slug(c, "alpha").unwrap(), Some(alpha.clone()));
    assert_eq!(bills::by_id(c, zeta.id).unwrap(), Some(zeta.clone()));
    assert_eq!(bills::by_slug(c, "missing").unwrap(), None);

    assert!(bills::set_next_wid(c, alpha.id, 12_345_678_901).unwrap());
    let meta = BillMeta {
        title: "Nouveau titre".into(),
        summary: String::new(),
        ..alpha.meta.clone()
    };
    assert!(bills::update_meta(c, alpha.id, &meta).unwrap());
    assert!(
        !bills::update_meta(c, BillId::new(alpha.id.get() + zeta.id.get() + 100), &meta).unwrap()
    );
    assert!(!bills::set_next_wid(c, BillId::new(alpha.id.get() + zeta.id.get() + 100), 3).unwrap());
    let alpha2 = bills::by_slug(c, "alpha").unwrap().unwrap();
    assert_eq!(alpha2.meta, meta);
    assert_eq!(alpha2.next_wid, 12_345_678_901);
    assert_eq!(alpha2.created_at, alpha.created_at);

    // Listing: by slug, with version counts and the date of the highest number.
    for (n, date) in [
        (1, "2024-03-01"),
        (2, "2025-07-14T10:00:00+02:00"),
        (3, "2025-01-01"),
    ] {
        let mut v = new_version(alpha.id, n, &format!("# v{n}"));
        v.date = date.into();
        versions::insert(c, &v).unwrap();
    }
    let list = bills::list(c).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].bill, alpha2);
    assert_eq!(list[0].version_count, 3);
    assert_eq!(list[0].latest_date.as_deref(), Some("2025-01-01"));
    assert_eq!(list[1].bill, zeta);
    assert_eq!(list[1].version_count, 0);
    assert_eq!(list[1].latest_date, None);
}

#[test]
fn versions_round_trip() {
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let c: &mut DbConnection = &mut conn;
    let bill = bills::insert(c, &new_bill("code")).unwrap();
    let other = bills::insert(c, &new_bill("other")).unwrap();

    assert_eq!(versions::max_number(c, bill.id).unwrap(), None);
    assert_eq!(versions::latest(c, bill.id).unwrap(), None);

    let big_markdown = "# Titre Ier\n\n## Article 1er\n\nTexte — « accentué ».\n\n".repeat(20_000);
    let mut v1 = new_version(bill.id, 1, &big_markdown);
    v1.source_ref = Some("0123456789abcdef0123456789abcdef01234567".into());
    v1.warnings = vec![
        "article 3 appears twice".into(),
        "quote \" and backslash \\ and newline \n".into(),
    ];
    v1.date = "2026-11-23T08:30:00Z".into();
    let mut v2 = new_version(bill.id, 2, "# Version 2\n");
    v2.note = String::new();
    let id1 = versions::insert(c, &v1).unwrap();
    let id2 = versions::insert(c, &v2).unwrap();
    // Same text in another bill: lookups are per bill.
    versions::insert(c, &new_version(other.id, 1, "# Version 2\n")).unwrap();

    let check = |meta: &versions::VersionMeta, id: VersionId, new: &NewVersion| {
        assert_eq!(meta.id, id);
        assert_eq!(meta.bill_id, new.bill_id);
        assert_eq!(meta.number, new.number);
        assert_eq!(meta.parent_number, new.parent_number);
        assert_eq!(meta.sha256, new.sha256);
        assert_eq!(meta.date, new.date);
        assert_eq!(meta.author, new.author);
        assert_eq!(meta.note, new.note);
        assert_eq!(meta.source_ref, new.source_ref);
        assert_eq!(meta.warnings, new.warnings);
        assert!(meta.created_at.unix() > 0);
    };

    let list = versions::list_meta(c, bill.id).unwrap();
    assert_eq!(list.len(), 2);
    check(&list[0], id1, &v1);
    check(&list[1], id2, &v2);

    let got1 = versions::by_number(c, bill.id, 1).unwrap().unwrap();
    check(&got1.meta, id1, &v1);
    assert_eq!(got1.markdown, big_markdown);
    assert_eq!(versions::by_id(c, id1).unwrap(), Some(got1.clone()));
    assert_eq!(versions::by_number(c, bill.id, 3).unwrap(), None);

    let latest = versions::latest(c, bill.id).unwrap().unwrap();
    check(&latest.meta, id2, &v2);
    assert_eq!(latest.markdown, v2.markdown);
    assert_eq!(versions::max_number(c, bill.id).unwrap(), Some(2));

    assert_eq!(
        versions::find_by_sha(c, bill.id, &v2.sha256)
            .unwrap()
            .unwrap()
            .id,
        id2
    );
    assert_eq!(versions::find_by_sha(c, bill.id, "00").unwrap(), None);
    let by_ref = versions::find_by_source_ref(c, bill.id, v1.source_ref.as_deref().unwrap());
    assert_eq!(by_ref.unwrap().unwrap().id, id1);
    assert_eq!(
        versions::find_by_source_ref(c, other.id, "0123").unwrap(),
        None
    );
}

#[test]
fn units_round_trip() {
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let c: &mut DbConnection = &mut conn;
    let bill = bills::insert(c, &new_bill("code")).unwrap();
    let v1 = versions::insert(c, &new_version(bill.id, 1, "a")).unwrap();
    let v2 = versions::insert(c, &new_version(bill.id, 2, "b")).unwrap();
    let v3 = versions::insert(c, &new_version(bill.id, 3, "c")).unwrap();

    // More rows than one INSERT takes on SQLite (2730).
    let many = synthetic_units(12_000, 0);
    let few = synthetic_units(5, 7);
    store::transaction(c, |c| {
        units::insert_many(c, v1, &many)?;
        units::insert_many(c, v2, &few)?;
        units::insert_many(c, v3, &[])
    })
    .unwrap();

    assert_eq!(units::for_version(c, v1).unwrap(), many);
    assert_eq!(units::for_version(c, v2).unwrap(), few);
    assert_eq!(units::for_version(c, v3).unwrap(), vec![]);
    assert_eq!(
        units::for_version(c, VersionId::new(v3.get() + 1000)).unwrap(),
        vec![]
    );

    // Units of a version are written once.
    let err = units::insert_many(c, v2, &few).unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    // And only for a version that exists.
    let missing = VersionId::new(v3.get() + 1000);
    let err = units::insert_many(c, missing, &few).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m == &format!("version {missing} does not exist: its units cannot be stored")),
        "{err}"
    );
}

/// What an import looks like to the store: everything in one transaction.
fn import(c: &mut DbConnection, slug: &str, versions_n: i32) -> Result<BillId, StoreError> {
    let bill = bills::insert(c, &new_bill(slug))?;
    for n in 1..=versions_n {
        let id = versions::insert(c, &new_version(bill.id, n, &format!("text {n}")))?;
        units::insert_many(c, id, &synthetic_units(3000, n as usize))?;
    }
    bills::set_next_wid(c, bill.id, 99)?;
    Ok(bill.id)
}

#[derive(Debug)]
enum ImportError {
    Store(StoreError),
    Parse(String),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Store(e)
    }
}

#[test]
fn failed_transaction_leaves_nothing() {
    let store = test_store();

    // An error of the caller's own type after many writes.
    let result: Result<(), ImportError> = store.transaction(|c| {
        import(c, "doomed", 3)?;
        Err(ImportError::Parse("bad markdown in version 4".into()))
    });
    assert!(matches!(result, Err(ImportError::Parse(m)) if m.contains("version 4")));

    // A database error in the middle (a version number used twice).
    let result: Result<VersionId, ImportError> = store.transaction(|c| {
        let id = import(c, "doomed-too", 2)?;
        Ok(versions::insert(c, &new_version(id, 2, "again"))?)
    });
    assert!(matches!(result, Err(ImportError::Store(e)) if e.is_unique_violation()));

    let mut conn = store.conn().unwrap();
    assert!(bills::list(&mut conn).unwrap().is_empty());
    assert_eq!(count_rows(&mut conn), (0, 0, 0));

    // The same connection still works, and a successful import commits.
    let id = store.transaction(|c| import(c, "kept", 2)).unwrap();
    assert_eq!(count_rows(&mut conn), (1, 2, 6000));
    assert_eq!(bills::by_id(&mut conn, id).unwrap().unwrap().next_wid, 99);

    // A nested transaction is a savepoint: its failure undoes only its own writes.
    store
        .transaction(|c| {
            bills::insert(c, &new_bill("outer"))?;
            let inner: Result<(), StoreError> = store::transaction(c, |c| {
                bills::insert(c, &new_bill("inner"))?;
                Err(StoreError::Invalid("undo inner".into()))
            });
            assert!(inner.is_err());
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let slugs: Vec<String> = bills::list(&mut conn)
        .unwrap()
        .into_iter()
        .map(|b| b.bill.slug)
        .collect();
    assert_eq!(slugs, ["kept", "outer"]);
}

fn count_rows(c: &mut DbConnection) -> (i64, i64, i64) {
    use amenda::store::schema::{bills, version_units, versions};
    (
        bills::table.count().get_result(c).unwrap(),
        versions::table.count().get_result(c).unwrap(),
        version_units::table.count().get_result(c).unwrap(),
    )
}

fn revision_count(c: &mut DbConnection) -> i64 {
    use amenda::store::schema::unit_revisions;
    unit_revisions::table.count().get_result(c).unwrap()
}

#[test]
fn units_unchanged_from_the_previous_version_are_stored_by_reference() {
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let c: &mut DbConnection = &mut conn;
    let bill = bills::insert(c, &new_bill("code")).unwrap();
    let other = bills::insert(c, &new_bill("other")).unwrap();
    let v1 = versions::insert(c, &new_version(bill.id, 1, "a")).unwrap();
    let v2 = versions::insert(c, &new_version(bill.id, 2, "b")).unwrap();
    let v3 = versions::insert(c, &new_version(bill.id, 3, "c")).unwrap();
    let o1 = versions::insert(c, &new_version(other.id, 1, "a")).unwrap();

    let first = synthetic_units(1000, 0);
    units::insert_many(c, v1, &first).unwrap();
    assert_eq!(revision_count(c), 1000);

    // The same units: no new revision.
    units::insert_many(c, v2, &first).unwrap();
    assert_eq!(revision_count(c), 1000);

    // Unit 5's text grows by 10 bytes, so every unit after it starts 10 bytes later (one
    // new revision: the units after it moved but did not change); unit 7's number
    // changes and unit 8's digest (two more); unit 9 is gone and a new one is last.
    let mut third = first.clone();
    third[5].end += 10;
    for u in &mut third[6..] {
        u.start += 10;
        u.end += 10;
    }
    third[7].num = Some("L1-7 bis".into());
    third[8].sha256 = format!("{:064x}", 99);
    third.remove(9);
    let mut added = third[0].clone();
    added.wid = "d9999".into();
    third.push(added);
    units::insert_many(c, v3, &third).unwrap();
    assert_eq!(revision_count(c), 1004);
    assert_eq!(units::for_version(c, v1).unwrap(), first);
    assert_eq!(units::for_version(c, v2).unwrap(), first);
    assert_eq!(units::for_version(c, v3).unwrap(), third);

    // Another bill's equal units are its own revisions.
    units::insert_many(c, o1, &first).unwrap();
    assert_eq!(revision_count(c), 2004);
    assert_eq!(units::for_version(c, o1).unwrap(), first);

    // A unit's history sees through the references.
    let history = store::unit_history::history(c, bill.id, &first[8].wid).unwrap();
    let seen: Vec<(i32, &str)> = history
        .iter()
        .map(|h| (h.number, h.sha256.as_str()))
        .collect();
    let old = first[8].sha256.as_str();
    let new = third[8].sha256.as_str();
    assert_eq!(seen, [(1, old), (2, old), (3, new)]);
    let gone = store::unit_history::history(c, bill.id, &first[9].wid).unwrap();
    assert_eq!(gone.iter().map(|h| h.number).collect::<Vec<_>>(), [1, 2]);
}

/// Reverts the last migration of the connection's backend, and returns its name.
fn revert_last_migration(c: &mut DbConnection) -> String {
    match c {
        DbConnection::Sqlite(s) => s.revert_last_migration(store::migrate::SQLITE_MIGRATIONS),
        DbConnection::Pg(p) => p.revert_last_migration(store::migrate::POSTGRES_MIGRATIONS),
    }
    .unwrap()
    .to_string()
}

fn run_pending_migrations(c: &mut DbConnection) {
    match c {
        DbConnection::Sqlite(s) => s
            .run_pending_migrations(store::migrate::SQLITE_MIGRATIONS)
            .map(drop),
        DbConnection::Pg(p) => p
            .run_pending_migrations(store::migrate::POSTGRES_MIGRATIONS)
            .map(drop),
    }
    .unwrap()
}

#[test]
fn a_database_with_units_stored_in_full_is_migrated_to_references_and_back() {
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let c: &mut DbConnection = &mut conn;
    let bill = bills::insert(c, &new_bill("code")).unwrap();
    let v1 = versions::insert(c, &new_version(bill.id, 1, "a")).unwrap();
    let v2 = versions::insert(c, &new_version(bill.id, 2, "b")).unwrap();
    let first = synthetic_units(300, 0);
    let mut second = first.clone();
    second[4].sha256 = format!("{:064x}", 4242);
    second[9].heading = None;

    // Back to the migration before units were stored by reference, with units written
    // as that schema had them (one full row per unit and version).
    let name = revert_last_migration(c);
    assert!(name.ends_with("000015"), "{name}");
    for (id, list) in [(v1, &first), (v2, &second)] {
        for (ord, u) in list.iter().enumerate() {
            diesel::sql_query(
                "INSERT INTO units (version_id, ord, kind, wid, eid, num, heading, depth, \
                 parent, start_byte, end_byte, sha256) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind::<BigInt, _>(id.get())
            .bind::<Integer, _>(ord as i32)
            .bind::<Text, _>(u.kind.as_str())
            .bind::<Text, _>(&u.wid)
            .bind::<Text, _>(&u.eid)
            .bind::<diesel::sql_types::Nullable<Text>, _>(u.num.as_deref())
            .bind::<diesel::sql_types::Nullable<Text>, _>(u.heading.as_deref())
            .bind::<Integer, _>(i32::from(u.depth))
            .bind::<diesel::sql_types::Nullable<Integer>, _>(u.parent.map(|p| p as i32))
            .bind::<BigInt, _>(u.start as i64)
            .bind::<BigInt, _>(u.end as i64)
            .bind::<Text, _>(&u.sha256)
            .execute(c)
            .unwrap();
        }
    }

    run_pending_migrations(c);
    assert_eq!(units::for_version(c, v1).unwrap(), first);
    assert_eq!(units::for_version(c, v2).unwrap(), second);
    // 300 units, and two changed in the second version.
    assert_eq!(revision_count(c), 302);

    // Reverted, the units are full rows again, the same as before.
    let name = revert_last_migration(c);
    assert!(name.ends_with("000015"), "{name}");
    #[derive(QueryableByName, PartialEq, Debug)]
    struct Row {
        #[diesel(sql_type = Text)]
        wid: String,
        #[diesel(sql_type = BigInt)]
        end_byte: i64,
        #[diesel(sql_type = Text)]
        sha256: String,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT wid, end_byte, sha256 FROM units WHERE version_id = $1 ORDER BY ord",
    )
    .bind::<BigInt, _>(v2.get())
    .load(c)
    .unwrap();
    let want: Vec<Row> = second
        .iter()
        .map(|u| Row {
            wid: u.wid.clone(),
            end_byte: u.end as i64,
            sha256: u.sha256.clone(),
        })
        .collect();
    assert_eq!(rows, want);
    run_pending_migrations(c);
    assert_eq!(units::for_version(c, v2).unwrap(), second);
}

#[test]
fn unique_constraints_hold() {
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let c: &mut DbConnection = &mut conn;
    let bill = bills::insert(c, &new_bill("code")).unwrap();
    let other = bills::insert(c, &new_bill("other")).unwrap();

    let err = bills::insert(c, &new_bill("code")).unwrap_err();
    assert!(err.is_unique_violation(), "{err}");

    versions::insert(c, &new_version(bill.id, 1, "a")).unwrap();
    let err = versions::insert(c, &new_version(bill.id, 1, "b")).unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    versions::insert(c, &new_version(other.id, 1, "a")).unwrap();

    // source_ref: unique per bill when set; any number of versions without one.
    let with_ref = |n: i32, r: Option<&str>| NewVersion {
        source_ref: r.map(str::to_owned),
        ..new_version(bill.id, n, "x")
    };
    versions::insert(c, &with_ref(2, Some("abc"))).unwrap();
    let err = versions::insert(c, &with_ref(3, Some("abc"))).unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    versions::insert(c, &with_ref(3, None)).unwrap();
    versions::insert(c, &with_ref(4, None)).unwrap();
    versions::insert(
        c,
        &NewVersion {
            source_ref: Some("abc".into()),
            ..new_version(other.id, 2, "x")
        },
    )
    .unwrap();

    // Versions need a bill; numbers start at 1.
    let err = versions::insert(
        c,
        &new_version(BillId::new(bill.id.get() + other.id.get() + 10), 1, "a"),
    )
    .unwrap_err();
    assert!(err.is_foreign_key_violation(), "{err}");
    assert!(versions::insert(c, &new_version(bill.id, 0, "zero")).is_err());
}

/// A state word this build does not know (written by hand, past the CHECK constraint)
/// is an error naming the set and the word when the row is read: not a panic, not a
/// default.
#[test]
fn unknown_state_in_the_database_is_a_clear_error() {
    use amenda::domain::consultation::Phase;
    use amenda::store::{accounts, consultations};
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let c: &mut DbConnection = &mut conn;
    let bill = bills::insert(c, &new_bill("code")).unwrap();
    let version = versions::insert(c, &new_version(bill.id, 1, "# Article 1\n\nTexte.\n")).unwrap();
    let staff = accounts::upsert(c, "test", "staff", "Staff", None).unwrap();
    let new = consultations::NewConsultation {
        bill_id: bill.id,
        version_id: version,
        title: "Consultation",
        description: "",
        opens_on: "2026-12-01",
        closes_on: "2026-12-31",
        levels: [1, 1, 2],
        phase: Phase::Draft,
        created_by: staff.id,
    };
    let id = consultations::insert(c, &new).unwrap();
    assert_eq!(
        consultations::by_id(c, id).unwrap().unwrap().phase,
        Phase::Draft
    );

    let bypass = match c.backend() {
        Backend::Sqlite => "PRAGMA ignore_check_constraints = ON",
        Backend::Postgres => "ALTER TABLE consultations DROP CONSTRAINT consultations_phase_check",
    };
    diesel::sql_query(bypass).execute(c).unwrap();
    diesel::sql_query(format!(
        "UPDATE consultations SET phase = 'archived' WHERE id = {id}"
    ))
    .execute(c)
    .unwrap();
    let e = consultations::by_id(c, id).unwrap_err();
    assert!(matches!(e, StoreError::Query(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("Error deserializing field 'phase': unknown consultation phase \"archived\""),
        "{e}"
    );
}

#[test]
fn a_stored_time_that_is_not_an_instant_is_a_clear_error() {
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let c: &mut DbConnection = &mut conn;
    let bill = bills::insert(c, &new_bill("code")).unwrap();
    assert_eq!(
        bills::by_id(c, bill.id).unwrap().unwrap().created_at,
        bill.created_at
    );
    diesel::sql_query(format!(
        "UPDATE bills SET created_at = 'hier' WHERE id = {}",
        bill.id
    ))
    .execute(c)
    .unwrap();
    let e = bills::by_id(c, bill.id).unwrap_err();
    assert!(matches!(e, StoreError::Query(_)), "{e:?}");
    assert!(
        e.to_string().contains("not an RFC 3339 instant: \"hier\""),
        "{e}"
    );
}

#[test]
fn a_bulk_transaction_has_a_large_page_cache_and_memory_journals_and_gives_them_back() {
    let store = test_store();
    if store.backend() != Backend::Sqlite {
        eprintln!("skipped: SQLite's page cache");
        return;
    }
    for fail in [false, true] {
        let result: Result<(), StoreError> = store.bulk_transaction(|c| {
            assert_eq!(sqlite_pragma(c, "cache_size"), "-32768");
            // 2 = MEMORY (statement journals in memory)
            assert_eq!(sqlite_pragma(c, "temp_store"), "2");
            if fail {
                return Err(StoreError::Invalid("an import that fails".into()));
            }
            Ok(())
        });
        assert_eq!(result.is_err(), fail);
        // Every connection of the pool (taken all at once, so the one the import used
        // is among them) is back to the default.
        let all: Vec<_> = (0..store::SQLITE_POOL_SIZE)
            .map(|_| store.conn().unwrap())
            .collect();
        for mut c in all {
            assert_eq!(sqlite_pragma(&mut c, "cache_size"), "-2000");
            assert_eq!(sqlite_pragma(&mut c, "temp_store"), "0");
        }
    }
}

#[test]
fn a_checkpoint_empties_the_write_ahead_log() {
    let store = test_store();
    if store.backend() != Backend::Sqlite {
        // PostgreSQL manages its own log.
        assert!(store.checkpoint().unwrap());
        return;
    }
    let wal = std::path::PathBuf::from(format!("{}-wal", store.database_url()));
    let wal_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    // One large transaction, as an import is: its pages stay in the log after it commits.
    store
        .transaction(|c| {
            let bill = bills::insert(c, &new_bill("big"))?;
            for n in 1..=3 {
                let id = versions::insert(c, &new_version(bill.id, n, &"mot ".repeat(100_000)))?;
                units::insert_many(c, id, &synthetic_units(2000, n as usize))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    assert!(
        wal_len() > 1_000_000,
        "the log holds the transaction: {}",
        wal_len()
    );
    assert!(store.checkpoint().unwrap(), "nobody reads: complete");
    assert_eq!(wal_len(), 0, "emptied");
    // Still the same data.
    let mut conn = store.conn().unwrap();
    let bill = bills::by_slug(&mut conn, "big").unwrap().unwrap();
    assert_eq!(versions::list_meta(&mut conn, bill.id).unwrap().len(), 3);
}

#[test]
fn migrate_is_idempotent_and_safe_to_run_concurrently() {
    let first = unmigrated_test_store();
    let second = Store::open(first.data_dir(), Some(first.database_url())).unwrap();
    let applied: Vec<Vec<String>> = std::thread::scope(|s| {
        let a = s.spawn(|| first.migrate().unwrap());
        let b = s.spawn(|| second.migrate().unwrap());
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    // Each migration was applied by exactly one of the two.
    let mut all: Vec<String> = applied.concat();
    all.sort();
    assert_eq!(all, migration_names());
    assert!(first.migrate().unwrap().is_empty());
}

#[test]
fn concurrent_writers_queue_instead_of_failing() {
    let store = test_store();
    std::thread::scope(|s| {
        for t in 0..4 {
            let store = &*store;
            s.spawn(move || {
                for i in 0..15 {
                    // Read, then write, in one transaction: the pattern that fails with
                    // SQLITE_BUSY under deferred transactions.
                    store
                        .transaction(|c| {
                            let n = bills::list(c)?.len();
                            let bill = bills::insert(c, &new_bill(&format!("t{t}-{i}-{n}")))?;
                            versions::insert(c, &new_version(bill.id, 1, "x"))?;
                            Ok::<_, StoreError>(())
                        })
                        .unwrap();
                }
            });
        }
    });
    let mut conn = store.conn().unwrap();
    assert_eq!(count_rows(&mut conn).0, 60);
}

#[test]
fn store_describes_itself_and_reports_connection_errors() {
    let store = test_store();
    let described = store.describe();
    match store.backend() {
        Backend::Sqlite => {
            assert!(described.starts_with("SQLite at "), "{described}");
            assert!(described.ends_with("test.sqlite3"), "{described}");
            let mut conn = store.conn().unwrap();
            assert_eq!(sqlite_pragma(&mut conn, "journal_mode"), "wal");
            assert_eq!(sqlite_pragma(&mut conn, "synchronous"), "2"); // FULL
            assert_eq!(sqlite_pragma(&mut conn, "foreign_keys"), "1");
            assert_eq!(sqlite_pragma(&mut conn, "busy_timeout"), "5000");
        }
        Backend::Postgres => {
            assert!(described.starts_with("PostgreSQL at "), "{described}");
            assert!(described.contains("/amenda_t_"), "{described}");
        }
    }

    // Default: a SQLite file in the data folder, which is created.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let default = Store::open(&data, None).unwrap();
    assert_eq!(default.backend(), Backend::Sqlite);
    assert!(data.join(store::DEFAULT_SQLITE_FILE).is_file());
    assert_eq!(
        default.describe(),
        format!("SQLite at {}", data.join("amenda.sqlite3").display())
    );

    // PostgreSQL down: a clear error, no password, and no SQLite file made instead.
    let empty = tempfile::tempdir().unwrap();
    let err = Store::open(
        empty.path(),
        Some("postgres://amenda:s3cret@127.0.0.1:1/amenda"),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            StoreError::Connect {
                backend: Backend::Postgres,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("PostgreSQL at 127.0.0.1:1/amenda"), "{msg}");
    assert!(!msg.contains("s3cret"), "{msg}");
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);

    // SQLite file in a missing folder: says which file.
    let missing = empty.path().join("nope/amenda.db");
    let err = Store::open(
        empty.path(),
        Some(&format!("sqlite://{}", missing.display())),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("SQLite") && err.contains("nope"), "{err}");
}

fn sqlite_pragma(c: &mut DbConnection, name: &str) -> String {
    // The pragma's table-valued function names its column after the pragma, except…
    let column = if name == "busy_timeout" {
        "timeout"
    } else {
        name
    };
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = Text)]
        value: String,
    }
    // CAST: pragma values come back as integers or text depending on the pragma.
    diesel::sql_query(format!(
        "SELECT CAST({column} AS TEXT) AS value FROM pragma_{name}"
    ))
    .get_result::<Value>(c)
    .unwrap()
    .value
}

/// Writes `AMENDA_BENCH_VERSIONS` (default 20) versions of 10,000 units in one
/// transaction, as an import does, and prints the rate.
#[test]
#[ignore = "measurement: run with --ignored --nocapture"]
fn insert_rate() {
    let versions_n: i32 = std::env::var("AMENDA_BENCH_VERSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let per_version = 10_000;
    let store = test_store();
    let markdown = "## Article L1\n\nTexte de l'alinéa.\n\n".repeat(per_version / 2);
    let units_v: Vec<Vec<Unit>> = (0..4).map(|s| synthetic_units(per_version, s)).collect();

    let started = Instant::now();
    let mut in_units = std::time::Duration::ZERO;
    store
        .transaction(|c| {
            let bill = bills::insert(c, &new_bill("bench"))?;
            for n in 1..=versions_n {
                let mut v = new_version(bill.id, n, &markdown);
                v.sha256 = format!("{n:064x}");
                let id = versions::insert(c, &v)?;
                let t = Instant::now();
                units::insert_many(c, id, &units_v[n as usize % 4])?;
                in_units += t.elapsed();
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let total = started.elapsed();
    let rows = versions_n as f64 * per_version as f64;
    println!(
        "{}: {versions_n} versions x {per_version} units in one transaction: {:.2} s total, \
         units {:.0} rows/s ({:.2} s in insert_many)",
        store.describe(),
        total.as_secs_f64(),
        rows / in_units.as_secs_f64(),
        in_units.as_secs_f64(),
    );

    let t = Instant::now();
    let mut conn = store.conn().unwrap();
    let back = units::for_version(&mut conn, VersionId::new(1)).unwrap_or_default();
    let latest_id = versions::list_meta(&mut conn, BillId::new(1))
        .unwrap()
        .last()
        .map(|v| v.id);
    let back_latest = units::for_version(&mut conn, latest_id.unwrap()).unwrap();
    println!(
        "read back 2 x {per_version} units in {:.3} s",
        t.elapsed().as_secs_f64()
    );
    assert!(back.is_empty() || back.len() == per_version);
    assert_eq!(back_latest.len(), per_version);
}

// ---------------------------------------------------------------------------------------
// Schema agreement: migrations/sqlite, migrations/postgres and src/store/schema.rs.

/// Column type as diesel sees it: `Integer`, `BigInt` or `Text`.
type Columns = Vec<(String, String, bool)>; // (name, type, nullable)
type Tables = BTreeMap<String, Columns>;

const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

fn manifest_path(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn migration_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(manifest_path("migrations/sqlite"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .map(|n| n.split('_').next().unwrap().replace('-', ""))
        .collect();
    names.sort();
    names
}

#[test]
fn migration_trees_have_the_same_versions() {
    let list = |backend: &str| {
        let mut names: Vec<String> =
            std::fs::read_dir(manifest_path(&format!("migrations/{backend}")))
                .unwrap()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().unwrap().is_dir())
                .map(|e| {
                    for f in ["up.sql", "down.sql"] {
                        assert!(
                            e.path().join(f).is_file(),
                            "{} lacks {f}",
                            e.path().display()
                        );
                    }
                    e.file_name().to_string_lossy().into_owned()
                })
                .collect();
        names.sort();
        names
    };
    assert_eq!(list("sqlite"), list("postgres"));
    assert!(!list("sqlite").is_empty());
}

#[test]
fn schema_rs_and_both_migration_trees_agree() {
    let declared =
        parse_schema_rs(&std::fs::read_to_string(manifest_path("src/store/schema.rs")).unwrap());
    assert_eq!(
        declared["version_units"].len(),
        units::PLACEMENT_COLUMNS,
        "units::PLACEMENT_COLUMNS drives the INSERT batch size"
    );
    assert_eq!(
        declared["unit_revisions"].len(),
        units::REVISION_COLUMNS,
        "units::REVISION_COLUMNS drives the INSERT batch size"
    );

    let sqlite = sqlite_tables();
    assert_same_tables(
        "migrations/sqlite",
        &sqlite,
        "src/store/schema.rs",
        &declared,
    );

    let postgres = if on_postgres() {
        // A fresh database migrated with the embedded postgres tree.
        let store = test_store();
        let mut conn = store.conn().unwrap();
        postgres_tables(&mut conn)
    } else {
        parse_postgres_migrations()
    };
    assert_same_tables(
        "migrations/postgres",
        &postgres,
        "src/store/schema.rs",
        &declared,
    );
}

#[test]
fn sqlite_migrations_revert_cleanly() {
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.run_pending_migrations(store::migrate::SQLITE_MIGRATIONS)
        .unwrap();
    conn.revert_all_migrations(store::migrate::SQLITE_MIGRATIONS)
        .unwrap();
    assert!(sqlite_table_names(&mut conn).is_empty());
    conn.run_pending_migrations(store::migrate::SQLITE_MIGRATIONS)
        .unwrap();
}

#[test]
fn postgres_migrations_revert_cleanly() {
    if !on_postgres() {
        eprintln!("skipped: AMENDA_TEST_DATABASE_URL is not set");
        return;
    }
    let store = test_store();
    let mut conn = store.conn().unwrap();
    let DbConnection::Pg(pg) = &mut *conn else {
        unreachable!()
    };
    pg.revert_all_migrations(store::migrate::POSTGRES_MIGRATIONS)
        .unwrap();
    assert!(postgres_tables(&mut conn).is_empty());
    let DbConnection::Pg(pg) = &mut *conn else {
        unreachable!()
    };
    pg.run_pending_migrations(store::migrate::POSTGRES_MIGRATIONS)
        .unwrap();
}

fn assert_same_tables(a_name: &str, a: &Tables, b_name: &str, b: &Tables) {
    let names = |t: &Tables| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(a), names(b), "tables of {a_name} vs {b_name}");
    for (table, cols) in a {
        assert_eq!(
            cols, &b[table],
            "columns (name, type, nullable) of {table} in {a_name} vs {b_name}"
        );
    }
}

/// Tables of the `diesel::table!` blocks of schema.rs, read as text.
fn parse_schema_rs(src: &str) -> Tables {
    let mut tables = Tables::new();
    let mut current: Option<(String, Columns)> = None;
    for line in src.lines().map(str::trim) {
        if let Some((name, cols)) = &mut current {
            if line == "}" {
                tables.insert(name.clone(), std::mem::take(cols));
                current = None;
            } else if let Some((col, ty)) = line.trim_end_matches(',').split_once("->") {
                let ty = ty.trim();
                let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                    Some(inner) => (inner.trim_end_matches('>'), true),
                    None => (ty, false),
                };
                cols.push((col.trim().to_owned(), ty.to_owned(), nullable));
            }
        } else if line.ends_with('{') && line.contains('(') && !line.contains('!') {
            // `name (primary key) {`
            let name = line.split_whitespace().next().unwrap().to_owned();
            current = Some((name, Columns::new()));
        }
    }
    assert!(current.is_none(), "unterminated table! block in schema.rs");
    assert!(!tables.is_empty(), "no table! block found in schema.rs");
    tables
}

fn sqlite_table_names(conn: &mut SqliteConnection) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .load::<Name>(conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .filter(|n| n != MIGRATIONS_TABLE)
    .collect()
}

/// Applies the SQLite tree to an in-memory database and reads its tables back. SQLite
/// types map as: `BIGINT` → BigInt, `TEXT` → Text, `INTEGER` → Integer, except an
/// `INTEGER PRIMARY KEY` (the 64-bit rowid) → BigInt.
fn sqlite_tables() -> Tables {
    #[derive(QueryableByName)]
    struct Col {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        #[diesel(column_name = type_)]
        ty: String,
        #[diesel(sql_type = Integer)]
        notnull: i32,
        #[diesel(sql_type = Integer)]
        pk: i32,
    }
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.run_pending_migrations(store::migrate::SQLITE_MIGRATIONS)
        .unwrap();
    let mut tables = Tables::new();
    for table in sqlite_table_names(&mut conn) {
        let cols = diesel::sql_query(
            "SELECT name, type AS type_, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind::<Text, _>(&table)
        .load::<Col>(&mut conn)
        .unwrap();
        let pk_count = cols.iter().filter(|c| c.pk > 0).count();
        let cols = cols
            .into_iter()
            .map(|c| {
                let rowid = pk_count == 1 && c.pk > 0 && c.ty.eq_ignore_ascii_case("INTEGER");
                let ty = match c.ty.to_ascii_uppercase().as_str() {
                    "INTEGER" if rowid => "BigInt",
                    "INTEGER" => "Integer",
                    "BIGINT" => "BigInt",
                    "TEXT" => "Text",
                    "BLOB" => "Binary",
                    other => panic!("{table}.{}: unexpected SQLite type {other}", c.name),
                };
                (c.name, ty.to_owned(), c.notnull == 0 && c.pk == 0)
            })
            .collect();
        tables.insert(table, cols);
    }
    tables
}

/// Tables of the public schema of a migrated PostgreSQL database.
fn postgres_tables(conn: &mut DbConnection) -> Tables {
    #[derive(QueryableByName)]
    struct Col {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        data_type: String,
        #[diesel(sql_type = Text)]
        is_nullable: String,
        #[diesel(sql_type = BigInt)]
        ordinal_position: i64,
    }
    let cols = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, \
         ordinal_position::bigint FROM information_schema.columns \
         WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
    )
    .load::<Col>(conn)
    .unwrap();
    let mut tables = Tables::new();
    for c in cols {
        if c.table_name == MIGRATIONS_TABLE {
            continue;
        }
        let _ = c.ordinal_position;
        let ty = pg_type(&c.data_type).unwrap_or_else(|| {
            panic!(
                "{}.{}: unexpected type {}",
                c.table_name, c.column_name, c.data_type
            )
        });
        tables.entry(c.table_name).or_default().push((
            c.column_name,
            ty.to_owned(),
            c.is_nullable == "YES",
        ));
    }
    tables
}

fn pg_type(t: &str) -> Option<&'static str> {
    match t.to_ascii_lowercase().as_str() {
        "integer" | "int" | "int4" | "serial" => Some("Integer"),
        "bigint" | "int8" | "bigserial" => Some("BigInt"),
        "text" => Some("Text"),
        "bytea" => Some("Binary"),
        _ => None,
    }
}

/// Without a server: the postgres tree's `up.sql` files read as text, in version order.
/// Understands CREATE TABLE, ALTER TABLE … ADD/DROP COLUMN, DROP TABLE and `DO` blocks
/// (which must not change columns); anything else
/// that changes columns must be taught here (or run with AMENDA_TEST_DATABASE_URL).
fn parse_postgres_migrations() -> Tables {
    let dir = manifest_path("migrations/postgres");
    let mut versions: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    versions.sort();
    let mut tables = Tables::new();
    for version in versions {
        let sql = std::fs::read_to_string(version.join("up.sql")).unwrap();
        let sql: String = sql
            .lines()
            .map(|l| l.split("--").next().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        // Function bodies ($$ … $$) hold semicolons of their own: leave them out.
        let sql: String = sql
            .split("$$")
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, part)| part)
            .collect();
        for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let words: Vec<String> = stmt
                .split_whitespace()
                .map(|w| w.to_ascii_uppercase())
                .collect();
            let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
            match (w(0), w(1)) {
                ("CREATE", "TABLE") => {
                    let name = stmt.split_whitespace().nth(2).unwrap();
                    let name = name.split('(').next().unwrap().to_owned();
                    let body = &stmt[stmt.find('(').unwrap() + 1..stmt.rfind(')').unwrap()];
                    let cols = split_top_level(body)
                        .into_iter()
                        .filter_map(|item| parse_pg_column(&item))
                        .collect();
                    tables.insert(name, cols);
                }
                ("DROP", "TABLE") => {
                    let name = stmt.split_whitespace().last().unwrap();
                    tables.remove(name);
                }
                ("ALTER", "TABLE") => {
                    let name = stmt.split_whitespace().nth(2).unwrap().to_owned();
                    let cols = tables.get_mut(&name).expect("ALTER of a known table");
                    match (w(3), w(4)) {
                        ("ADD", "COLUMN") => {
                            let def = stmt.splitn(6, char::is_whitespace).nth(5).unwrap();
                            cols.push(parse_pg_column(def).unwrap());
                        }
                        ("DROP", "COLUMN") => {
                            let col = stmt.split_whitespace().nth(5).unwrap();
                            cols.retain(|c| c.0 != col);
                        }
                        ("ADD", "CONSTRAINT") | ("ADD", "UNIQUE") => {}
                        _ => panic!("teach parse_postgres_migrations about: {stmt}"),
                    }
                }
                ("CREATE", _) | ("DROP", _) | ("INSERT", _) | ("UPDATE", _) => {}
                // An anonymous block (its body is left out above): the only one sets how
                // a column is compressed, not what it is.
                ("DO", "") => {}
                _ => panic!("teach parse_postgres_migrations about: {stmt}"),
            }
        }
    }
    tables
}

fn split_top_level(body: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut depth = 0;
    for ch in body.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(String::new());
                continue;
            }
            _ => {}
        }
        items.last_mut().unwrap().push(ch);
    }
    items
}

/// `name TYPE …constraints` → (name, diesel type, nullable); None for table constraints.
fn parse_pg_column(def: &str) -> Option<(String, String, bool)> {
    let words: Vec<&str> = def.split_whitespace().collect();
    let first = words.first()?.to_ascii_uppercase();
    if [
        "PRIMARY",
        "UNIQUE",
        "CONSTRAINT",
        "FOREIGN",
        "CHECK",
        "EXCLUDE",
    ]
    .contains(&first.as_str())
    {
        return None;
    }
    let upper = def.to_ascii_uppercase();
    let ty = pg_type(words[1]).unwrap_or_else(|| panic!("unexpected type in: {def}"));
    let nullable = !upper.contains("NOT NULL") && !upper.contains("PRIMARY KEY");
    Some((words[0].to_owned(), ty.to_owned(), nullable))
}

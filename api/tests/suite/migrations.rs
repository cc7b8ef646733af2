//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) build the same database, and
//! `api/src/schema.rs` describes it: same tables, columns, types, nullability, defaults, primary
//! keys, indexes and foreign keys (with their `ON DELETE`). Every schema change is written once per backend by hand; this test is what
//! notices when one of the three copies drifts.
//!
//! Each database is read from its own catalogue after a fresh migration (`pragma_table_info`,
//! `pragma_index_list`/`pragma_index_info`, `pragma_foreign_key_list` on SQLite; `information_schema`,
//! `pg_indexes` and `pg_constraint` on PostgreSQL), reduced to one [`Schema`] shape through the type
//! table [`TYPES`], and compared. Not compared: CHECK constraints and partial-index predicates, which
//! each backend prints its own way.

use std::collections::BTreeMap;
use std::fmt;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use keel_api::db::{Backend, DbConn};

use crate::support::fresh_db;

/// The one SQL type vocabulary: diesel's name, SQLite's declared type, PostgreSQL's
/// `information_schema.columns.data_type` (all spellings each backend may report). A column whose
/// type is in no row fails the test: add the row, and use the type on both backends.
const TYPES: &[(&str, &[&str], &[&str])] = &[
    // diesel      SQLite declared types        PostgreSQL data_type
    ("Text", &["TEXT"], &["text", "character varying"]),
    ("BigInt", &["BIGINT"], &["bigint"]),
    ("Integer", &["INTEGER"], &["integer"]),
    ("SmallInt", &["SMALLINT"], &["smallint"]),
    ("Bool", &["BOOLEAN"], &["boolean"]),
    ("Timestamp", &["TIMESTAMP"], &["timestamp without time zone"]),
    ("Date", &["DATE"], &["date"]),
    ("Double", &["DOUBLE PRECISION", "DOUBLE", "REAL"], &["double precision"]),
    ("Binary", &["BLOB"], &["bytea"]),
];

/// What a database (or `schema.rs`) says about its tables.
#[derive(Debug, Default, PartialEq)]
struct Schema {
    tables: BTreeMap<String, Table>,
}

#[derive(Debug, Default, PartialEq)]
struct Table {
    columns: BTreeMap<String, Column>,
    primary_key: Vec<String>,
    /// Keyed by the index's name for `CREATE INDEX`, or by `PRIMARY KEY (..)` / `UNIQUE (..)` for
    /// the indexes constraints make (their names differ by backend: `sqlite_autoindex_x_1`, `x_pkey`).
    indexes: BTreeMap<String, Index>,
    /// `(columns) REFERENCES table (columns)` → the `ON DELETE` action. In `schema.rs`: its
    /// `joinable!` lines, with no action.
    foreign_keys: BTreeMap<String, String>,
}

#[derive(Debug, PartialEq)]
struct Column {
    /// diesel's name for the type, through [`TYPES`]; the raw name when no row maps it.
    ty: String,
    nullable: bool,
    /// Normalised (casts, case and parentheses removed). `schema.rs` knows no defaults: always `None`.
    default: Option<String>,
}

#[derive(Debug, PartialEq)]
struct Index {
    columns: Vec<String>,
    unique: bool,
    /// Has a `WHERE` clause. (The predicates are not compared: each backend prints them its own way.)
    partial: bool,
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.ty, if self.nullable { " NULL" } else { " NOT NULL" })?;
        if let Some(d) = &self.default {
            write!(f, " DEFAULT {d}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unique = if self.unique { "UNIQUE " } else { "" };
        let partial = if self.partial { " WHERE …" } else { "" };
        write!(f, "{unique}({}){partial}", self.columns.join(", "))
    }
}

#[test]
fn both_migration_trees_and_schema_rs_describe_the_same_database() {
    let rust = schema_rs();
    let sqlite = migrated(Backend::Sqlite).expect("SQLite is always available");
    let mut differences = compare("sqlite", &sqlite, "schema.rs", &rust, false);
    if let Some(postgres) = migrated(Backend::Postgres) {
        differences.extend(compare("sqlite", &sqlite, "postgres", &postgres, true));
        differences.extend(compare("postgres", &postgres, "schema.rs", &rust, false));
    }
    assert!(
        differences.is_empty(),
        "the migration trees and api/src/schema.rs disagree ({} difference{}):\n  {}\n",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" },
        differences.join("\n  ")
    );
    // The comparison saw the real schema, not two empty ones.
    assert!(sqlite.tables.len() >= 10 && sqlite.tables["users"].columns.len() >= 10, "{:?}", sqlite.tables.keys());
}

/// Every difference between two descriptions, one line each, named `table.column` and by source.
/// `full` also compares defaults and indexes (which `schema.rs` does not describe).
fn compare(a: &str, left: &Schema, b: &str, right: &Schema, full: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (name, l) in &left.tables {
        let Some(r) = right.tables.get(name) else {
            out.push(format!("table {name}: in {a}, missing from {b}"));
            continue;
        };
        for (col, lc) in &l.columns {
            let Some(rc) = r.columns.get(col) else {
                out.push(format!("{name}.{col}: in {a} ({lc}), missing from {b}"));
                continue;
            };
            if lc.ty != rc.ty {
                out.push(format!("{name}.{col}: type {} in {a}, {} in {b}", lc.ty, rc.ty));
            }
            if lc.nullable != rc.nullable {
                let says = |n: bool| if n { "NULL" } else { "NOT NULL" };
                out.push(format!("{name}.{col}: {} in {a}, {} in {b}", says(lc.nullable), says(rc.nullable)));
            }
            if full && lc.default != rc.default {
                let says = |d: &Option<String>| d.clone().map_or("no default".to_string(), |d| format!("DEFAULT {d}"));
                out.push(format!("{name}.{col}: {} in {a}, {} in {b}", says(&lc.default), says(&rc.default)));
            }
        }
        for (col, rc) in &r.columns {
            if !l.columns.contains_key(col) {
                out.push(format!("{name}.{col}: in {b} ({rc}), missing from {a}"));
            }
        }
        if l.primary_key != r.primary_key {
            out.push(format!("{name}: primary key ({}) in {a}, ({}) in {b}", l.primary_key.join(", "), r.primary_key.join(", ")));
        }
        if full {
            for (key, on_delete) in &l.foreign_keys {
                match r.foreign_keys.get(key) {
                    None => out.push(format!("{name}: foreign key {key} ON DELETE {on_delete} in {a}, missing from {b}")),
                    Some(other) if other != on_delete => {
                        out.push(format!("{name}: foreign key {key} ON DELETE {on_delete} in {a}, ON DELETE {other} in {b}"))
                    }
                    Some(_) => {}
                }
            }
            for (key, on_delete) in &r.foreign_keys {
                if !l.foreign_keys.contains_key(key) {
                    out.push(format!("{name}: foreign key {key} ON DELETE {on_delete} in {b}, missing from {a}"));
                }
            }
        } else {
            // `b` is schema.rs: each `joinable!` must stand on a real foreign key.
            for key in r.foreign_keys.keys() {
                if !l.foreign_keys.contains_key(key) {
                    out.push(format!("{name}: schema.rs joins on {key}, but {a} has no such foreign key"));
                }
            }
        }
        if full {
            for (key, li) in &l.indexes {
                match r.indexes.get(key) {
                    None => out.push(format!("{name}: index {key} {li} in {a}, missing from {b}")),
                    Some(ri) if ri != li => out.push(format!("{name}: index {key} is {li} in {a}, {ri} in {b}")),
                    Some(_) => {}
                }
            }
            for (key, ri) in &r.indexes {
                if !l.indexes.contains_key(key) {
                    out.push(format!("{name}: index {key} {ri} in {b}, missing from {a}"));
                }
            }
        }
    }
    for name in right.tables.keys() {
        if !left.tables.contains_key(name) {
            out.push(format!("table {name}: in {b}, missing from {a}"));
        }
    }
    out
}

/// diesel's name for a backend's type name, through [`TYPES`].
fn diesel_type(backend: Backend, raw: &str) -> String {
    let base = raw.split('(').next().unwrap_or(raw).trim();
    TYPES
        .iter()
        .find(|(_, sqlite, postgres)| match backend {
            Backend::Sqlite => sqlite.iter().any(|t| t.eq_ignore_ascii_case(base)),
            Backend::Postgres => postgres.contains(&base),
        })
        .map_or_else(|| format!("{raw} (not in the TYPES table)"), |(diesel, _, _)| diesel.to_string())
}

/// One spelling for a default: `'USD'::text` and `'USD'`, `FALSE` and `false`, `(0)` and `0`,
/// `now()` and `CURRENT_TIMESTAMP` read alike.
fn normalise_default(raw: &str, ty: &str) -> String {
    let mut d = raw.trim().to_string();
    loop {
        let before = d.clone();
        if d.starts_with('(') && d.ends_with(')') {
            d = d[1..d.len() - 1].trim().to_string();
        }
        // A trailing cast: `'x'::text`, `0::bigint`, `'x'::character varying`.
        if let Some(at) = d.rfind("::") {
            if d[at + 2..].chars().all(|c| c.is_ascii_alphabetic() || c == ' ') {
                d = d[..at].trim().to_string();
            }
        }
        if d == before {
            break;
        }
    }
    let lower = d.to_ascii_lowercase();
    match lower.as_str() {
        "true" | "false" | "current_timestamp" => lower,
        "1" if ty == "Bool" => "true".into(),
        "0" if ty == "Bool" => "false".into(),
        "now()" => "current_timestamp".into(),
        _ => d,
    }
}

/// The comma-separated list in the first parentheses after ` ON `, as written (`lower(email)` stays
/// whole), lower-cased without spaces: the columns of a `CREATE INDEX` statement.
fn index_columns_from_sql(sql: &str) -> Vec<String> {
    let on = sql.to_ascii_lowercase().find(" on ").unwrap_or(0);
    let rest = &sql[on..];
    let Some(open) = rest.find('(') else { return Vec::new() };
    let (mut depth, mut parts, mut current) = (0, Vec::new(), String::new());
    for c in rest[open + 1..].chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => break,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts.iter().map(|p| p.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()).collect()
}

/// A fresh database of `backend` migrated by the app's own `db::connect`, read back; `None` when
/// PostgreSQL is not reachable outside CI (the harness says so).
fn migrated(backend: Backend) -> Option<Schema> {
    let (_db, url) = fresh_db(backend)?;
    let pool = keel_api::db::connect(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let schema = match &mut *conn {
        DbConn::Sqlite(c) => read_sqlite(c),
        DbConn::Postgresql(c) => read_postgres(c),
    };
    drop(conn);
    drop(pool); // before `_db` drops the PostgreSQL database
    Some(schema)
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn read_sqlite(c: &mut diesel::SqliteConnection) -> Schema {
    #[derive(QueryableByName)]
    struct Col {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        ty: String,
        #[diesel(sql_type = Integer)]
        notnull: i32,
        #[diesel(sql_type = Nullable<Text>)]
        dflt_value: Option<String>,
        #[diesel(sql_type = Integer)]
        pk: i32,
    }
    #[derive(QueryableByName)]
    struct Idx {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Integer)]
        unique: i32,
        #[diesel(sql_type = Text)]
        origin: String,
        #[diesel(sql_type = Integer)]
        partial: i32,
        #[diesel(sql_type = Nullable<Text>)]
        sql: Option<String>,
    }
    #[derive(QueryableByName)]
    struct IdxCol {
        #[diesel(sql_type = Nullable<Text>)]
        name: Option<String>,
    }
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(c)
    .unwrap();
    let mut schema = Schema::default();
    for Name { name: table } in tables {
        let cols: Vec<Col> =
            diesel::sql_query("SELECT name, type AS ty, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid")
                .bind::<Text, _>(&table)
                .load(c)
                .unwrap();
        let mut t = Table::default();
        let mut pk: Vec<(i32, String)> = Vec::new();
        for col in cols {
            let ty = diesel_type(Backend::Sqlite, &col.ty);
            if col.pk > 0 {
                pk.push((col.pk, col.name.clone()));
            }
            let default = col.dflt_value.map(|d| normalise_default(&d, &ty));
            t.columns.insert(col.name, Column { ty, nullable: col.notnull == 0, default });
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, n)| n).collect();
        let indexes: Vec<Idx> = diesel::sql_query(
            "SELECT l.name, l.\"unique\", l.origin, l.partial, m.sql \
             FROM pragma_index_list(?) l LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name",
        )
        .bind::<Text, _>(&table)
        .load(c)
        .unwrap();
        for idx in indexes {
            let named: Vec<IdxCol> =
                diesel::sql_query("SELECT name FROM pragma_index_info(?) ORDER BY seqno").bind::<Text, _>(&idx.name).load(c).unwrap();
            let written = idx.sql.as_deref().map(index_columns_from_sql).unwrap_or_default();
            // An expression (`lower(email)`) has no column name: take it as written in the statement.
            let columns: Vec<String> = named
                .into_iter()
                .enumerate()
                .map(|(i, n)| n.name.unwrap_or_else(|| written.get(i).cloned().unwrap_or_else(|| "<expression>".into())))
                .collect();
            let key = match idx.origin.as_str() {
                "pk" => format!("PRIMARY KEY ({})", columns.join(", ")),
                "u" => format!("UNIQUE ({})", columns.join(", ")),
                _ => idx.name,
            };
            t.indexes.insert(key, Index { columns, unique: idx.unique == 1, partial: idx.partial == 1 });
        }
        let fks: Vec<Fk> = diesel::sql_query(
            "SELECT id, \"table\" AS parent, \"from\" AS child_column, \"to\" AS parent_column, on_delete \
             FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind::<Text, _>(&table)
        .load(c)
        .unwrap();
        let mut by_id: BTreeMap<i32, (String, Vec<String>, Vec<String>, String)> = BTreeMap::new();
        for fk in fks {
            let e = by_id.entry(fk.id).or_insert_with(|| (fk.parent.clone(), Vec::new(), Vec::new(), fk.on_delete.clone()));
            e.1.push(fk.child_column);
            // `REFERENCES users` without columns means the parent's primary key.
            e.2.push(fk.parent_column.unwrap_or_else(|| "<primary key>".into()));
        }
        for (_, (parent, from, to, on_delete)) in by_id {
            t.foreign_keys.insert(fk_key(&from, &parent, &to), on_delete.to_ascii_uppercase());
        }
        schema.tables.insert(table, t);
    }
    schema
}

#[derive(QueryableByName)]
struct Fk {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = Text)]
    child_column: String,
    #[diesel(sql_type = Nullable<Text>)]
    parent_column: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

fn fk_key(from: &[String], parent: &str, to: &[String]) -> String {
    format!("({}) REFERENCES {parent} ({})", from.join(", "), to.join(", "))
}

fn read_postgres(c: &mut diesel::PgConnection) -> Schema {
    #[derive(QueryableByName)]
    struct Col {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        ty: String,
        #[diesel(sql_type = Text)]
        is_nullable: String,
        #[diesel(sql_type = Nullable<Text>)]
        dflt: Option<String>,
    }
    #[derive(QueryableByName)]
    struct Idx {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        def: String,
        #[diesel(sql_type = Nullable<Text>)]
        contype: Option<String>,
    }
    #[derive(QueryableByName)]
    struct PkCol {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = BigInt)]
        position: i64,
    }
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load(c)
    .unwrap();
    let mut schema = Schema::default();
    for Name { name: table } in tables {
        let cols: Vec<Col> = diesel::sql_query(
            "SELECT column_name::text AS name, data_type::text AS ty, is_nullable::text, column_default::text AS dflt \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind::<Text, _>(&table)
        .load(c)
        .unwrap();
        let mut t = Table::default();
        for col in cols {
            let ty = diesel_type(Backend::Postgres, &col.ty);
            let default = col.dflt.map(|d| normalise_default(&d, &ty));
            t.columns.insert(col.name, Column { ty, nullable: col.is_nullable == "YES", default });
        }
        let mut pk: Vec<PkCol> = diesel::sql_query(
            "SELECT k.column_name::text AS name, k.ordinal_position::bigint AS position \
             FROM information_schema.table_constraints t JOIN information_schema.key_column_usage k \
               ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name \
             WHERE t.table_schema = 'public' AND t.table_name = $1 AND t.constraint_type = 'PRIMARY KEY'",
        )
        .bind::<Text, _>(&table)
        .load(c)
        .unwrap();
        pk.sort_by_key(|p| p.position);
        t.primary_key = pk.into_iter().map(|p| p.name).collect();
        let indexes: Vec<Idx> = diesel::sql_query(
            "SELECT i.indexname::text AS name, i.indexdef AS def, c.contype::text AS contype \
             FROM pg_indexes i LEFT JOIN pg_constraint c \
               ON c.conname = i.indexname AND c.connamespace = 'public'::regnamespace AND c.contype IN ('p', 'u') \
             WHERE i.schemaname = 'public' AND i.tablename = $1",
        )
        .bind::<Text, _>(&table)
        .load(c)
        .unwrap();
        for idx in indexes {
            let columns = index_columns_from_sql(&idx.def);
            let key = match idx.contype.as_deref() {
                Some("p") => format!("PRIMARY KEY ({})", columns.join(", ")),
                Some("u") => format!("UNIQUE ({})", columns.join(", ")),
                _ => idx.name,
            };
            let unique = idx.def.starts_with("CREATE UNIQUE INDEX");
            t.indexes.insert(key, Index { columns, unique, partial: idx.def.contains(" WHERE ") });
        }
        // `FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE`
        let fks: Vec<Name> = diesel::sql_query(
            "SELECT pg_get_constraintdef(c.oid) AS name FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND t.relname = $1",
        )
        .bind::<Text, _>(&table)
        .load(c)
        .unwrap();
        for Name { name: def } in fks {
            let list = |s: &str| s.split(',').map(|c| c.trim().trim_matches('"').to_string()).collect::<Vec<_>>();
            let inner = |s: &str| s.split_once('(').and_then(|(_, r)| r.split_once(')')).map(|(i, rest)| (i.to_string(), rest.to_string()));
            let (from, rest) = inner(&def).unwrap_or_else(|| panic!("cannot read {def}"));
            let rest = rest.trim_start().strip_prefix("REFERENCES ").unwrap_or_else(|| panic!("cannot read {def}"));
            let parent = rest.split('(').next().unwrap().trim().trim_start_matches("public.");
            let (to, actions) = inner(rest).unwrap_or_else(|| panic!("cannot read {def}"));
            let on_delete = actions.split_once("ON DELETE ").map_or("NO ACTION", |(_, a)| {
                ["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"].into_iter().find(|x| a.starts_with(x)).unwrap_or(a)
            });
            t.foreign_keys.insert(fk_key(&list(&from), parent, &list(&to)), on_delete.to_string());
        }
        schema.tables.insert(table, t);
    }
    schema
}

/// `api/src/schema.rs` read as text: every `diesel::table!` block's name, primary key, columns and
/// types (`Nullable<..>` unwrapped into `nullable`). Reading the text keeps this test independent of
/// where the module lives in the crate.
fn schema_rs() -> Schema {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/schema.rs");
    let text = std::fs::read_to_string(path).unwrap();
    let mut schema = Schema::default();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("diesel::table!") {
        rest = &rest[at + "diesel::table!".len()..];
        let open = rest.find('{').unwrap();
        let body_open = rest[open + 1..].find('{').unwrap() + open + 1;
        let head = rest[open + 1..body_open].trim();
        let body_close = rest[body_open..].find('}').unwrap() + body_open;
        let body = &rest[body_open + 1..body_close];
        rest = &rest[body_close..];
        // The head: `[use ...;]* name (pk, ...)`, possibly with `#[sql_name = ".."]`.
        let head = head.lines().map(str::trim).filter(|l| !l.starts_with("use ") && !l.starts_with("#[")).collect::<Vec<_>>().join(" ");
        let (name, pk) = head.split_once('(').unwrap_or_else(|| panic!("schema.rs: cannot read the table head `{head}`"));
        let primary_key = pk.trim_end_matches(')').split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let mut t = Table { primary_key, ..Table::default() };
        let mut sql_name = None;
        for line in body.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//")) {
            if let Some(n) = line.strip_prefix("#[sql_name = \"") {
                sql_name = Some(n.trim_end_matches("\"]").to_string());
                continue;
            }
            if line.starts_with("#[") || line.starts_with("///") {
                continue;
            }
            let (col, ty) = line.trim_end_matches(',').split_once("->").unwrap_or_else(|| panic!("schema.rs {name}: cannot read `{line}`"));
            let ty = ty.trim();
            let (ty, nullable) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
                Some(inner) => (inner.trim(), true),
                None => (ty, false),
            };
            let col = sql_name.take().unwrap_or_else(|| col.trim().to_string());
            t.columns.insert(col, Column { ty: ty.to_string(), nullable, default: None });
        }
        schema.tables.insert(name.trim().to_string(), t);
    }
    assert!(!schema.tables.is_empty(), "no diesel::table! blocks found in {path}");
    // `diesel::joinable!(sessions -> users (user_id));` joins on users' primary key.
    for line in text.lines().filter_map(|l| l.trim().strip_prefix("diesel::joinable!(")) {
        let (child, rest) = line.split_once("->").unwrap_or_else(|| panic!("schema.rs: cannot read joinable!({line}"));
        let (parent, column) = rest.split_once('(').unwrap_or_else(|| panic!("schema.rs: cannot read joinable!({line}"));
        let (child, parent, column) = (child.trim(), parent.trim(), column.split(')').next().unwrap().trim());
        let parent_key = schema.tables.get(parent).map(|t| t.primary_key.clone()).unwrap_or_default();
        let key = fk_key(&[column.to_string()], parent, &parent_key);
        schema
            .tables
            .get_mut(child)
            .unwrap_or_else(|| panic!("schema.rs joins {child}, which it does not declare"))
            .foreign_keys
            .insert(key, String::new());
    }
    schema
}

// The reading itself, on statements as each backend prints them.
#[test]
fn index_columns_and_defaults_are_read_alike_from_both_backends() {
    assert_eq!(index_columns_from_sql("CREATE UNIQUE INDEX users_email_key ON users (lower(email))"), ["lower(email)"]);
    assert_eq!(index_columns_from_sql("CREATE UNIQUE INDEX users_email_key ON public.users USING btree (lower(email))"), ["lower(email)"]);
    assert_eq!(
        index_columns_from_sql(
            "CREATE INDEX jobs_runnable ON public.jobs USING btree (queue, run_at) WHERE (state = ANY (ARRAY['queued'::text]))"
        ),
        ["queue", "run_at"]
    );
    for (sqlite, postgres, ty) in
        [("'default'", "'default'::text", "Text"), ("FALSE", "false", "Bool"), ("0", "0", "Integer"), ("(10)", "10", "BigInt")]
    {
        assert_eq!(normalise_default(sqlite, ty), normalise_default(postgres, ty), "{sqlite} / {postgres}");
    }
    assert_eq!(diesel_type(Backend::Postgres, "character varying"), "Text");
    assert_eq!(diesel_type(Backend::Sqlite, "VARCHAR(20)"), "VARCHAR(20) (not in the TYPES table)");
}

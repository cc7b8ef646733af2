# Keel's two commands:
#   make run    build everything (installing missing tools) and start Keel on http://127.0.0.1:8080
#   make test   run every test: unit, API integration (SQLite + PostgreSQL), browser end-to-end
# Other targets: web (build the SPA), openapi (regenerate the committed spec), bench, clean.

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/.tools/node_modules/.bin:$(PATH)
TRUNK := trunk build web/index.html --release --skip-version-check
# The client portal and the admin are bundles of their own (see web/src/routes.rs), built after
# the storefront, whose build empties dist/.
TRUNK_PORTAL := trunk build web/portal.html --release --skip-version-check --dist dist/portal --public-url /portal/
TRUNK_ADMIN := trunk build web/admin.html --release --skip-version-check --dist dist/admin --public-url /admin/

.PHONY: run test web setup setup-test openapi bench bench-lists bench-auth bench-http bench-lighthouse clean

run: setup web
	cargo build --release -p keel-api --bin keel
	./target/release/keel serve

test: setup-test web
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo build -p keel-api --bin keel
	cargo test --no-fail-fast

setup:
	@scripts/setup

setup-test:
	@scripts/setup --test

web:
	$(TRUNK)
	$(TRUNK_PORTAL)
	$(TRUNK_ADMIN)
	scripts/web-size

openapi:
	KEEL_UPDATE_OPENAPI=1 cargo test -p keel-api --test suite openapi_document_matches_the_committed_file

# Queue throughput on SQLite and PostgreSQL (release build); prints jobs/second.
BENCH_JOBS ?= 100000
BENCH_WORKERS ?= 2
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
bench:
	cargo build --release -p keel-api --bin keel
	rm -rf target/bench && mkdir -p target/bench
	KEEL_DATA_DIR=target/bench KEEL_DEMO_DATA=false ./target/release/keel bench jobs --jobs $(BENCH_JOBS) --workers $(BENCH_WORKERS)
	psql "$(BENCH_PG)/postgres" -qc 'DROP DATABASE IF EXISTS keel_bench' -c 'CREATE DATABASE keel_bench'
	KEEL_DATA_DIR=target/bench DATABASE_URL=$(BENCH_PG)/keel_bench ./target/release/keel bench jobs --jobs $(BENCH_JOBS) --workers $(BENCH_WORKERS)

# The back office's list pages over 100,000 clients and 1,000,000 audit entries, SQLite and
# PostgreSQL: p50/p99 per case (first page, deep page, cursor at the end, searches).
bench-lists:
	cargo build --release -p keel-api --bin keel
	rm -rf target/bench && mkdir -p target/bench
	KEEL_DATA_DIR=target/bench KEEL_DEMO_DATA=false ./target/release/keel bench lists
	psql "$(BENCH_PG)/postgres" -qc 'DROP DATABASE IF EXISTS keel_bench' -c 'CREATE DATABASE keel_bench'
	KEEL_DATA_DIR=target/bench DATABASE_URL=$(BENCH_PG)/keel_bench ./target/release/keel bench lists

# Registrations and log-ins per second (argon2id), alone and side by side, SQLite and PostgreSQL.
BENCH_USERS ?= 200
bench-auth:
	cargo build --release -p keel-api --bin keel
	rm -rf target/bench && mkdir -p target/bench
	KEEL_DATA_DIR=target/bench KEEL_DEMO_DATA=false ./target/release/keel bench auth --users $(BENCH_USERS)
	psql "$(BENCH_PG)/postgres" -qc 'DROP DATABASE IF EXISTS keel_bench' -c 'CREATE DATABASE keel_bench'
	KEEL_DATA_DIR=target/bench DATABASE_URL=$(BENCH_PG)/keel_bench ./target/release/keel bench auth --users $(BENCH_USERS)

# The request path beside a bare actix-web handler (wrk, release build, SQLite and PostgreSQL):
# req/s, p99 and the share of the bare handler's req/s per endpoint. See scripts/bench-http.
bench-http:
	@scripts/setup --bench
	cargo build --release -p keel-api --bin keel --bin keel-bench-bare
	BENCH_PG=$(BENCH_PG) scripts/bench-http

# Lighthouse's mobile audit of the storefront (release build, several runs): Performance, LCP,
# FCP, CLS, TBT. See scripts/bench-lighthouse.
bench-lighthouse: setup-test web
	cargo build --release -p keel-api --bin keel
	scripts/bench-lighthouse

clean:
	cargo clean
	rm -rf dist

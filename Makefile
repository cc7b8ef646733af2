# Keel's two commands:
#   make run    build everything (installing missing tools) and start Keel on http://127.0.0.1:8080
#   make test   run every test: unit, API integration (SQLite + PostgreSQL), browser end-to-end
# Other targets: web (build the SPA), openapi (regenerate the committed spec), bench, clean.

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/.tools/node_modules/.bin:$(PATH)
TRUNK := trunk build web/index.html --release --skip-version-check

.PHONY: run test web setup setup-test openapi bench clean

run: setup web
	cargo build --release -p keel-api --bin keel
	./target/release/keel serve

test: setup-test web
	cargo build -p keel-api --bin keel
	cargo test --no-fail-fast

setup:
	@scripts/setup

setup-test:
	@scripts/setup --test

web:
	$(TRUNK)

openapi:
	KEEL_UPDATE_OPENAPI=1 cargo test -p keel-api --test api openapi_document_matches_the_committed_file

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

clean:
	cargo clean
	rm -rf dist

# Keel's two commands:
#   make run    build everything (installing missing tools) and start Keel on http://127.0.0.1:8080
#   make test   run every test: unit, API integration (SQLite + PostgreSQL), browser end-to-end
# Other targets: web (build the SPA), openapi (regenerate the committed spec), clean.

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/.tools/node_modules/.bin:$(PATH)
TRUNK := trunk build web/index.html --release --skip-version-check

.PHONY: run test web setup setup-test openapi clean

run: setup web
	cargo build --release -p keel-api --bin keel
	./target/release/keel serve

test: setup-test web
	cargo build -p keel-api --bin keel
	cargo test --workspace --no-fail-fast

setup:
	@scripts/setup

setup-test:
	@scripts/setup --test

web:
	$(TRUNK)

openapi:
	KEEL_UPDATE_OPENAPI=1 cargo test -p keel-api --test api openapi_document_matches_the_committed_file

clean:
	cargo clean
	rm -rf dist

-- Commerce, part one: a catalog admins shape (groups, options, add-ons, renewal prices, stock),
-- currencies as data, tax rules and promo codes. Keep in step with migrations/sqlite.

-- Currencies the shop sells in. The exponent and symbol are ISO-4217 facts (keel-shared's
-- money::ISO_4217); the rate is the shop's: units of this currency per unit of the default one,
-- in millionths.
CREATE TABLE currencies (
    code        TEXT PRIMARY KEY NOT NULL,
    rate_micros BIGINT NOT NULL CHECK (rate_micros > 0),
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order  INTEGER NOT NULL DEFAULT 0,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE product_groups (
    id          TEXT PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visible     BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order  INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- products.active = FALSE is a retired product (not sold); hidden ones are sold by link only.
ALTER TABLE products ADD COLUMN group_id TEXT REFERENCES product_groups (id) ON DELETE SET NULL;
ALTER TABLE products ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE products ADD COLUMN requires_domain BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE products ADD COLUMN stock BIGINT CHECK (stock >= 0);   -- NULL: unlimited
ALTER TABLE products ADD COLUMN module TEXT;                       -- provisioning module (cpanel…)
ALTER TABLE products ADD COLUMN package TEXT;                      -- the module's package name
CREATE INDEX products_group ON products (group_id);

ALTER TABLE product_prices ADD COLUMN renewal_minor BIGINT CHECK (renewal_minor >= 0);

CREATE TABLE config_options (
    id         TEXT PRIMARY KEY NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    hidden     BOOLEAN NOT NULL DEFAULT FALSE,
    min_units  BIGINT NOT NULL DEFAULT 0,
    max_units  BIGINT NOT NULL DEFAULT 0,
    step       BIGINT NOT NULL DEFAULT 1 CHECK (step >= 1),
    unit       TEXT NOT NULL DEFAULT '',
    sort_order INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX config_options_product ON config_options (product_id, sort_order);

CREATE TABLE config_option_values (
    id         TEXT PRIMARY KEY NOT NULL,
    option_id  TEXT NOT NULL REFERENCES config_options (id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX config_option_values_option ON config_option_values (option_id, sort_order);

CREATE TABLE config_value_prices (
    value_id        TEXT NOT NULL REFERENCES config_option_values (id) ON DELETE CASCADE,
    cycle           TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor >= 0),
    setup_fee_minor BIGINT NOT NULL DEFAULT 0 CHECK (setup_fee_minor >= 0),
    renewal_minor   BIGINT CHECK (renewal_minor >= 0),
    PRIMARY KEY (value_id, cycle, currency)
);

CREATE TABLE addons (
    id          TEXT PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order  INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE addon_prices (
    addon_id        TEXT NOT NULL REFERENCES addons (id) ON DELETE CASCADE,
    cycle           TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor >= 0),
    setup_fee_minor BIGINT NOT NULL DEFAULT 0 CHECK (setup_fee_minor >= 0),
    renewal_minor   BIGINT CHECK (renewal_minor >= 0),
    PRIMARY KEY (addon_id, cycle, currency)
);

CREATE TABLE product_addons (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    addon_id   TEXT NOT NULL REFERENCES addons (id) ON DELETE CASCADE,
    PRIMARY KEY (product_id, addon_id)
);
CREATE INDEX product_addons_addon ON product_addons (addon_id);

-- Tax by place: state '' applies to the whole country. Level 2 may compound on level 1.
CREATE TABLE tax_rules (
    id         TEXT PRIMARY KEY NOT NULL,
    country    TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    rate_bp    INTEGER NOT NULL CHECK (rate_bp >= 0 AND rate_bp <= 10000),
    level      INTEGER NOT NULL DEFAULT 1 CHECK (level IN (1, 2)),
    compound   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tax_rules_place ON tax_rules (country, state);

-- Promo codes; `code` is stored upper-cased. product_ids, cycles and addon_ids are JSON arrays
-- (empty: all products, all cycles, no add-ons).
CREATE TABLE promo_codes (
    id               TEXT PRIMARY KEY NOT NULL,
    code             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    value            BIGINT NOT NULL CHECK (value > 0),
    currency         TEXT,
    duration         TEXT NOT NULL,
    duration_cycles  INTEGER,
    product_ids      TEXT NOT NULL DEFAULT '[]',
    cycles           TEXT NOT NULL DEFAULT '[]',
    addon_ids        TEXT NOT NULL DEFAULT '[]',
    starts_at        TIMESTAMP,
    expires_at       TIMESTAMP,
    max_uses         INTEGER,
    uses             INTEGER NOT NULL DEFAULT 0,
    once_per_client  BOOLEAN NOT NULL DEFAULT FALSE,
    new_clients_only BOOLEAN NOT NULL DEFAULT FALSE,
    min_order_minor  BIGINT,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

ALTER TABLE client_profiles ADD COLUMN tax_exempt BOOLEAN NOT NULL DEFAULT FALSE;

DROP TABLE vat_checks;
DROP TABLE carts;
ALTER TABLE promo_codes DROP COLUMN stackable;

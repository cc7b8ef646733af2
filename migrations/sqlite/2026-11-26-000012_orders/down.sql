DROP TABLE promo_uses;
DROP TABLE services;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE counters;

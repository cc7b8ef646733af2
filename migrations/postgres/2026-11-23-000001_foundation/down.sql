DROP TABLE settings;
DROP TABLE product_prices;
DROP TABLE products;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;

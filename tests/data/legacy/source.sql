-- The database the backups in this folder were made of (by pgward before pg_dump compressed archives
-- itself): restoring one of them must give back exactly these rows.
CREATE TABLE shop_customer (
    id integer PRIMARY KEY,
    name text NOT NULL,
    joined date NOT NULL,
    balance numeric(10, 2) NOT NULL
);
CREATE TABLE shop_order (
    id bigint PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES shop_customer,
    placed_at timestamptz NOT NULL,
    status text NOT NULL,
    details jsonb NOT NULL
);
CREATE INDEX shop_order_customer ON shop_order (customer_id);
CREATE VIEW shop_open_order AS SELECT * FROM shop_order WHERE status <> 'delivered';
INSERT INTO shop_customer
SELECT i, 'customer ' || i, date '2020-01-01' + i, (i * 37 % 1000) / 7.0
FROM generate_series(1, 300) AS i;
INSERT INTO shop_order
SELECT i, 1 + i % 300, timestamptz '2024-01-01 00:00:00+00' + i * interval '17 minutes',
       (ARRAY['paid', 'shipped', 'delivered'])[1 + i % 3],
       jsonb_build_object('items', i % 7 + 1, 'note', repeat('x', i % 11))
FROM generate_series(1, 2000) AS i;

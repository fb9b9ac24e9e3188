-- bench/mixed.sql: the "mixed" benchmark profile, a shop's database rather than a text corpus. Per unit of
-- :scale, 5,000 customers, 60,000 orders (ids, timestamps, numerics, a status word, a note of five
-- dictionary words) and 25,000 jsonb events (type, user, path, user agent, ms). Scale 100 is about the
-- database of issue 12 (6 M orders, 2.5 M events, 500 k customers). Deterministic: setseed() first.
-- Usage: psql -v scale=N -f bench/mixed.sql URL
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE TABLE customers (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    country char(2) NOT NULL,
    balance numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    created_at timestamp NOT NULL,
    amount numeric(10, 2) NOT NULL,
    tax numeric(10, 2) NOT NULL,
    status text NOT NULL,
    note text NOT NULL
);
CREATE TABLE events (
    id bigint PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    payload jsonb NOT NULL
);

-- The dictionary the notes, names and paths are drawn from.
CREATE TEMP TABLE dict AS
SELECT string_to_array(
  'time year people way day man thing woman life child world school state family student group country '
  'problem hand part place case week company system program question work government number night point '
  'home water room mother area money story fact month lot right study book eye job word business issue '
  'side kind head house service friend father power hour game line end member law car city community name '
  'president team minute idea kid body information back parent face others level office door health person '
  'art war history party result change morning reason research girl guy moment air teacher force education '
  'foot boy age policy process music market sense nation plan college interest death experience effect use '
  'class control care field development role effort rate heart drug show leader light voice wife police '
  'mind price report decision son view relationship town road arm difference value building action model '
  'season society tax director position player record paper space ground form event official matter center '
  'couple site project activity star table need court oil situation cost industry figure street image phone '
  'data picture practice piece land product doctor wall patient worker news test movie north love support '
  'technology step baby computer type attention film tree source organization hair window evidence '
  'population site truth basis skill order parcel shipment invoice refund delivery warehouse discount', ' ') AS w;

SELECT setseed(0.42) \g /dev/null

INSERT INTO customers
SELECT i,
       initcap(d.w[1 + (random() * (array_length(d.w, 1) - 1))::int]) || ' ' ||
         initcap(d.w[1 + (random() * (array_length(d.w, 1) - 1))::int]),
       d.w[1 + (random() * (array_length(d.w, 1) - 1))::int] || '.' || i || '@example.com',
       (ARRAY['US','DE','FR','GB','NL','SE','PL','ES','IT','CA','BR','IN','JP','AU','CH','AT','BE','DK','NO','FI'])
         [1 + (random() * 19)::int],
       round((random() * 5000 - 500)::numeric, 2),
       timestamptz '2021-01-01' + random() * interval '1400 days'
FROM generate_series(1, 5000 * :scale) AS i, dict AS d;

INSERT INTO orders
SELECT i,
       1 + (random() * (5000 * :scale - 1))::bigint,
       timestamp '2022-01-01' + random() * interval '1100 days',
       amount,
       round(amount * 0.19, 2),
       (ARRAY['pending','paid','shipped','delivered','cancelled','refunded'])[1 + (random() * 5)::int],
       concat_ws(' ',
         d.w[1 + (random() * (array_length(d.w, 1) - 1))::int],
         d.w[1 + (random() * (array_length(d.w, 1) - 1))::int],
         d.w[1 + (random() * (array_length(d.w, 1) - 1))::int],
         d.w[1 + (random() * (array_length(d.w, 1) - 1))::int],
         d.w[1 + (random() * (array_length(d.w, 1) - 1))::int])
FROM generate_series(1, 60000 * :scale) AS i, dict AS d,
     -- i in the lateral makes it run per row (uncorrelated, it would run once).
     LATERAL (SELECT round((random() * 480 + 2 + 0 * i)::numeric, 2) AS amount) AS a;

INSERT INTO events
SELECT i,
       timestamptz '2024-01-01' + (i::float8 / (25000 * :scale)) * interval '365 days',
       jsonb_build_object(
         'type', (ARRAY['page_view','click','search','add_to_cart','checkout','login','logout','error'])
                   [1 + (random() * 7)::int],
         'user', 1 + (random() * (5000 * :scale - 1))::int,
         'path', '/' || d.w[1 + (random() * (array_length(d.w, 1) - 1))::int] || '/' ||
                   d.w[1 + (random() * (array_length(d.w, 1) - 1))::int] || '/' || (random() * 100000)::int,
         'ua', (ARRAY[
                  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
                  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
                  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
                  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
                  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36',
                  'curl/8.5.0'])[1 + (random() * 5)::int],
         'ms', (random() * random() * 3000)::int)
FROM generate_series(1, 25000 * :scale) AS i, dict AS d;

CREATE INDEX orders_customer_id ON orders (customer_id);
CREATE INDEX events_occurred_at ON events (occurred_at);

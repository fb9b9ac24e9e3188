--
-- pgward test fixture: deterministic, scalable data for tests/data/pagila-schema.sql
--
-- psql variables (pass with -v NAME=VALUE):
--
--   scale    positive integer, default 1. Row counts of the bulk tables grow
--            linearly with it (city/address/customer 600*scale,
--            actor 200*scale, film 1000*scale, inventory ~4.3 per film,
--            film_actor ~5.5 per film, rental/payment see below).
--            A plain-format pg_dump is ~6.2 MB (text) / ~5.2 MB (numeric)
--            per scale unit, i.e. scale 300 ~ 1.85 GB / 1.55 GB. Loading
--            takes roughly 1 s per scale unit on one core. Maximum scale: 5000.
--
--   profile  'text' (default) or 'numeric'.
--            text:    long multi-paragraph English-like film descriptions
--                     (8-40 sentences, ~2.2 kB on average, so most are
--                     TOAST-compressed/moved out of line), long
--                     address2 notes, 4000*scale rentals. Most dump bytes
--                     are prose (descriptions + their tsvector).
--            numeric: short one-sentence pagila-style descriptions, empty
--                     address2, 20000*scale rentals. Most dump bytes are
--                     ids, amounts, timestamps and uuids (rental/payment).
--            In both profiles ~97% of rentals get one payment, spread over
--            all 55 monthly payment partitions (2022-01 .. 2026-07).
--
-- Load (schema first, same or separate psql invocation):
--   psql -v ON_ERROR_STOP=1 -v scale=1 -v profile=text \
--        -f tests/data/pagila-schema.sql -f tests/data/pagila-data.sql "$DATABASE_URL"
--
-- Properties:
--   * Deterministic: the same scale+profile always produces the same rows.
--     No random()/setseed() (random()'s algorithm changed in PostgreSQL 15),
--     no now()/CURRENT_DATE, no locale-dependent upper()/lower()/initcap():
--     every pseudo-random choice is derived from md5() of a fixed seed string.
--     Descriptions are ASCII, so film.fulltext (computed by the english
--     text-search configuration via film_fulltext_trigger) does not depend
--     on the database locale. All tables, including fulltext, were verified
--     byte-identical on PostgreSQL 13..18 and in C and C.UTF-8 databases.
--   * Set-based: every table is filled by one INSERT ... SELECT over
--     generate_series(); FKs and CHECK constraints stay enabled and hold.
--   * Runs in one transaction; only temporary helper functions (pg_temp)
--     are created, so no extra objects end up in the database or its dumps.
--   * Sequences are set to max(id); rental_by_category is refreshed.
--   * Requires a UTF8 database (non-ASCII city/district/customer names).
--

\set ON_ERROR_STOP on
\if :{?scale}
\else
\set scale 1
\endif
\if :{?profile}
\else
\set profile text
\endif

-- pagila-schema.sql empties search_path for the rest of the session.
SET search_path = public, pg_catalog;
SET client_min_messages = warning;

SELECT set_config('pgward.scale', :'scale', false) AS pgward_scale_set,
       set_config('pgward.profile', :'profile', false) AS pgward_profile_set
\gset

DO $check$
BEGIN
    IF current_setting('pgward.scale') !~ '^[0-9]{1,4}$'
       OR current_setting('pgward.scale')::int NOT BETWEEN 1 AND 5000 THEN
        RAISE EXCEPTION 'pagila-data.sql: scale must be an integer between 1 and 5000, got "%"',
            current_setting('pgward.scale');
    END IF;
    IF current_setting('pgward.profile') NOT IN ('text', 'numeric') THEN
        RAISE EXCEPTION 'pagila-data.sql: profile must be "text" or "numeric", got "%"',
            current_setting('pgward.profile');
    END IF;
END
$check$;

SELECT s * 600                                   AS n_city,
       s * 600                                   AS n_customer,
       s * 600 + 4                               AS n_address,
       s * 200                                   AS n_actor,
       s * 1000                                  AS n_film,
       s * CASE WHEN p = 'numeric' THEN 20000 ELSE 4000 END AS n_rental,
       CASE WHEN p = 'numeric' THEN 'false' ELSE 'true' END AS long_text,
       -- rental_date slots: one slot per rental, 2022-01-01 .. 2026-07-25
       (143942400 / (s * CASE WHEN p = 'numeric' THEN 20000 ELSE 4000 END)) AS rental_step
FROM (SELECT current_setting('pgward.scale')::int AS s,
             current_setting('pgward.profile') AS p) v
\gset

\echo pagila-data.sql: scale=:scale profile=:profile films=:n_film rentals=:n_rental

BEGIN;

------------------------------------------------------------------------------
-- Helpers (session-local, never dumped)
------------------------------------------------------------------------------

-- k-th 16-bit (0..65535) / 32-bit (0..2^32-1) number from a hex string
CREATE FUNCTION pg_temp.r(m text, k int) RETURNS int
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT ('x' || substr(m, 1 + 4 * k, 4))::bit(16)::int $$;
CREATE FUNCTION pg_temp.r32(m text, k int) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT ('x' || substr(m, 1 + 8 * k, 8))::bit(32)::bigint $$;

-- uniform pick / skewed pick (index = n * u(u+1)/2 with u = v/65536, so
-- earlier entries are more frequent, like common words), v in 0..65535
CREATE FUNCTION pg_temp.u(a text[], v int) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT a[1 + v % cardinality(a)] $$;
CREATE FUNCTION pg_temp.z(a text[], v int) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT a[1 + ((v::bigint * (v + 65536) * cardinality(a)) >> 33)::int] $$;

-- another 16-bit number derived from v (odd multiplier: a permutation of 0..65535)
CREATE FUNCTION pg_temp.mix(v int) RETURNS int
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT ((v::bigint * 40503 + 12345) % 65536)::int $$;

-- indefinite article (ASCII vocabulary only)
CREATE FUNCTION pg_temp.an(x text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT CASE WHEN left(x, 1) IN ('a','e','i','o','u') THEN 'an ' ELSE 'a ' END || x $$;
CREATE FUNCTION pg_temp.cap_an(x text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT CASE WHEN left(x, 1) IN ('a','e','i','o','u') THEN 'An ' ELSE 'A ' END || x $$;

-- locale-independent "ascii lower": folds the letters used in the name lists,
-- drops apostrophes and spaces (for e-mail addresses)
CREATE FUNCTION pg_temp.mailpart(x text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT translate(x, 'ABCDEFGHIJKLMNOPQRSTUVWXYZÁÀÂÃÄÅÆÇČĆÉÈÊËĘĚÍÎÏŁÑŃÓÔÕÖØŒŘŠŚÚÙÛÜŮÝŸŽŻ'' -',
                                 'abcdefghijklmnopqrstuvwxyzaaaaaaaccceeeeeeiiilnnoooooorssuuuuuyyzz') $$;

-- vocabularies
CREATE FUNCTION pg_temp.w_adj() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'quiet','dark','beautiful','strange','epic','young','lonely','brilliant','gentle','bitter',
 'ancient','mysterious','tender','restless','dramatic','fearless','thoughtful','haunting','stormy','warm',
 'clever','desperate','hopeful','intimate','ironic','lavish','melancholy','noble','ominous','playful',
 'poignant','proud','quirky','radiant','reckless','romantic','rustic','savage','secret','serene',
 'shadowy','silent','sincere','somber','stark','steady','stunning','subtle','sudden','suspenseful',
 'swift','tense','thrilling','timeless','tragic','tranquil','unexpected','unforgettable','unlikely','urgent',
 'vibrant','vivid','weary','whimsical','wicked','wild','wise','witty','wondrous','zealous',
 'amazing','anxious','astounding','awe-inspiring','bold','boring','brave','brisk','calm','careful',
 'charming','cheerful','clumsy','cold','colorful','cozy','cruel','curious','daring','dazzling',
 'delicate','determined','dull','eager','elegant','emotional','endless','exciting','faithful','fanciful',
 'fast-paced','fateful','fierce','fragile','frantic','ghostly','gloomy','glorious','graceful','grim',
 'heartfelt','heroic','hilarious','honest','humble','icy','imaginative','insightful','intense','intrepid',
 'joyful','loud','lucky','lyrical','majestic','naive','nervous','nostalgic','obscure','odd',
 'peaceful','polished','rapid','rebellious','rich','rough','rowdy','sad','sharp','shy',
 'silly','sleepy','slow','smooth','sober','sunny','sweet','tiny','unassuming','overlooked',
 'sprawling','meticulous','feverish','luminous','sardonic','brooding','tempestuous','unhurried','raw','wry',
 'old','new','forgotten','famous','broken','golden','crooked','borrowed','stolen','hidden',
 'painted','abandoned','bloody','frozen','burning','drowned','lost','last','first','only']
$$;
CREATE FUNCTION pg_temp.w_genre() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'drama','story','documentary','saga','tale','character study','reflection','yarn','panorama','display',
 'epistle','thriller','comedy','romance','mystery','western','musical','fable','chronicle','portrait',
 'adventure','satire','parable','melodrama','road movie','farce','elegy','odyssey','memoir','caper']
$$;
CREATE FUNCTION pg_temp.w_person() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'woman','man','girl','boy','teacher','student','detective','stranger','sailor','widow',
 'feminist','mad scientist','monkey','dog','cat','moose','hunter','pastry chef','robot','crocodile',
 'squirrel','database administrator','lumberjack','astronaut','dentist','husband','mad cow','technical writer','composer','pioneer',
 'sumo wrestler','shark','waitress','butler','explorer','forensic psychologist','secret agent','cow','kangaroo','emperor',
 'nurse','pilot','farmer','librarian','painter','soldier','orphan','priest','senator','journalist',
 'smuggler','baker','blacksmith','clown','gambler','magician','merchant','miner','monk','poet',
 'prince','princess','queen','king','rancher','sheriff','spy','surgeon','tailor','thief',
 'violinist','witch','wizard','engineer','programmer','accountant','archaeologist','architect','ballerina','barber',
 'chemist','cowboy','diplomat','firefighter','gardener','geologist','hacker','jockey','judge','lawyer',
 'mechanic','midwife','novelist','photographer','plumber','professor','refugee','sculptor','shepherd','teenager',
 'twin','veteran','ventriloquist','zookeeper','grandmother','landlord','translator','cartographer','stowaway','fisherman',
 'bookkeeper','chauffeur','cook','governess','housekeeper','innkeeper','locksmith','mailman','mayor','night watchman',
 'organist','pharmacist','police inspector','postmistress','schoolteacher','seamstress','stationmaster','undertaker','watchmaker','weaver']
$$;
CREATE FUNCTION pg_temp.w_verb() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'find','meet','chase','battle','build','defeat','discover','escape','fight','conquer',
 'outgun','outrace','overcome','pursue','reach','redeem','sink','succumb to','vanquish','kill',
 'befriend','betray','convince','deceive','follow','forgive','guide','help','marry','protect',
 'rescue','rob','sabotage','confront','challenge','charm','outwit','remember','trust','warn',
 'hide from','negotiate with','race','teach','train','tame','impress','persuade','expose','unmask',
 'steal','bury','forget','sell','repair','destroy','deliver','decode','hide','recover',
 'photograph','smuggle','translate','understand','avoid','outlive','replace','imitate','impersonate','interview']
$$;
CREATE FUNCTION pg_temp.w_vpast() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'found','lost','kept','left','met','followed','watched','remembered','opened','carried',
 'discovered','built','crossed','chased','described','explored','guarded','hid','imagined','joined',
 'noticed','painted','questioned','rescued','searched','sold','stole','taught','visited','wandered through',
 'wrote about','abandoned','admired','avoided','borrowed','buried','climbed','defended','destroyed','doubted',
 'dreamed of','feared','forgot','inherited','investigated','mapped','mended','mocked','planted','praised',
 'rebuilt','repaired','returned to','sketched','smuggled','studied','traded','trusted','uncovered','burned',
 'sold off','gave away','lied about','argued over','waited for','prayed for','counted','measured','photographed','copied',
 'translated','decoded','forged','signed','tore up','sealed','delivered','intercepted','recovered','misplaced',
 'ignored','envied','resented','adored','cherished','betrayed','exposed','concealed','rescued','ruined',
 'shattered','polished','painted over','dug up','sank','towed','launched','wrecked','abandoned','guarded']
$$;
CREATE FUNCTION pg_temp.w_noun() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'letter','house','secret','promise','map','key','song','garden','photograph','boat',
 'fortune','diary','painting','recipe','treasure','crown','contract','debt','locket','compass',
 'manuscript','violin','horse','lantern','clock','mirror','sword','ring','bridge','farm',
 'factory','newspaper','telegram','medal','rumor','inheritance','confession','alibi','ticket','ledger',
 'formula','signal','storm','harvest','election','wedding','funeral','festival','trial','voyage',
 'expedition','invention','experiment','rebellion','scandal','memory','dream','prophecy','legend','curse',
 'orchard','typewriter','suitcase','quilt','telescope','bicycle','lighthouse','vineyard','recording','ferry',
 'window','staircase','cellar','attic','notebook','umbrella','necklace','pistol','letterbox','photograph album',
 'radio','piano','fountain','chapel','harbor','warehouse','greenhouse','tavern','courtroom','mansion',
 'pocket watch','wallet','revolver','postcard','blanket','chessboard','candle','feather','hat','coat',
 'scarf','shoe','glove','saddle','wagon','carriage','locomotive','airplane','rowboat','canoe',
 'island','valley','river','forest','glacier','volcano','canyon','swamp','meadow','cliff',
 'cave','tunnel','tower','well','mill','barn','stable','kitchen','ballroom','balcony',
 'fever','winter','silence','debt','grudge','bargain','wager','quarrel','apology','ransom',
 'reward','warning','riddle','verdict','lullaby','anthem','portrait','sculpture','novel','poem']
$$;
CREATE FUNCTION pg_temp.w_plural() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'characters','performances','landscapes','dialogues','twists','set pieces','songs','costumes','silences','chases',
 'flashbacks','close-ups','arguments','betrayals','reunions','storms','sunsets','misunderstandings','rivalries','confessions',
 'interiors','crowd scenes','long takes','jokes','letters','dances','villains','dinners','journeys','secrets']
$$;
CREATE FUNCTION pg_temp.w_adv() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'quietly','slowly','suddenly','carefully','finally','eventually','bravely','reluctantly','eagerly','secretly',
 'desperately','gently','patiently','foolishly','cheerfully','bitterly','honestly','nervously','boldly','tenderly',
 'stubbornly','gracefully','wisely','angrily','calmly','barely','openly','silently','clumsily','proudly',
 'abruptly','absently','awkwardly','briskly','cautiously','coldly','curiously','defiantly','fondly','gladly',
 'hastily','idly','lazily','madly','meekly','mysteriously','oddly','politely','rudely','sheepishly']
$$;
CREATE FUNCTION pg_temp.w_place() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'the Canadian Rockies','a balloon factory','an abandoned fun house','the Gulf of Mexico','ancient China','ancient India','a jet boat','a Manhattan penthouse','a MySQL convention','Nigeria',
 'Soviet Georgia','a U-boat','the Sahara desert','a shark tank','the outback','a monastery','Berlin','a baloon','the first manned space station','an abandoned mine shaft',
 'a lighthouse','a crowded train station','a flooded cathedral','a small fishing village','the Arctic Circle','a roadside diner','an old observatory','a haunted hotel','a desert oasis','the Amazon rainforest',
 'a Paris cafe','a Tokyo subway','a prison island','a traveling circus','a submarine','a vineyard in Tuscany','a coal mine','a Venetian palace','the Scottish Highlands','a Mississippi steamboat',
 'a Moroccan bazaar','a snowed-in cabin','an abandoned amusement park','a colony on Mars','a Victorian orphanage','a jazz club in New Orleans','a polar research station','a Himalayan village','a border town','a film studio',
 'a royal court','a sinking ship','a zeppelin','a rooftop garden','a frozen lake','a crowded hospital','a medieval castle','a library after midnight','a Lisbon tram','a Siberian railway',
 'a tiny bookshop','a crumbling villa','a fog-bound harbor','a Brooklyn laundromat','a salt mine','a Norwegian fjord','an orbiting hotel','a bankrupt casino','a suburban cul-de-sac','a night train to Vienna',
 'a lighthouse keeper''s cottage','a cattle ranch in Montana','a boarding school','a Buenos Aires tango hall','a mountain pass','a refugee camp','a Hong Kong rooftop','a dusty courthouse','an Antarctic whaling station','a seaside boarding house']
$$;
CREATE FUNCTION pg_temp.w_time() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'before dawn','by the end of the summer','within a single night','over three long winters','before the harvest','after the war','during the festival','before the last train','as the city slept','before the storm broke',
 'in the final act','over the course of a decade','before the election','on the eve of the wedding','in the years that followed','after the funeral','long after midnight','before anyone noticed','in the spring of 1959','for the rest of her life',
 'before the ice melted','during the blackout','after the trial','before the circus left town','on the longest day of the year','after the last dance','in the winter of 1911','before the ship sailed','during the long drought','on a rainy Tuesday']
$$;
CREATE FUNCTION pg_temp.w_conj() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'and','but','although','because','while','even though','so','yet'] $$;
CREATE FUNCTION pg_temp.w_pron() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'we','they','you','she','he','I','nobody','everyone'] $$;
CREATE FUNCTION pg_temp.w_title() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'ACADEMY','DINOSAUR','ACE','GOLDFINGER','ADAPTATION','HOLES','AFFAIR','PREJUDICE','AFRICAN','EGG',
 'AGENT','TRUMAN','AIRPLANE','SIERRA','AIRPORT','POLLOCK','ALABAMA','DEVIL','ALADDIN','CALENDAR',
 'ALAMO','VIDEOTAPE','ALASKA','PHANTOM','ALI','FOREVER','ALIEN','CENTER','ALLEY','EVOLUTION',
 'ALONE','TRIP','ALTER','VICTORY','AMADEUS','HOLY','AMELIE','HELLFIGHTERS','AMERICAN','CIRCUS',
 'AMISTAD','MIDSUMMER','ANACONDA','CONFESSIONS','ANALYZE','HOOSIERS','ANGELS','LIFE','ANNIE','IDENTITY',
 'ANONYMOUS','HUMAN','ANTHEM','LUKE','ANTITRUST','TOMATOES','ANYTHING','SAVANNAH','APACHE','DIVINE',
 'APOCALYPSE','FLAMINGOS','APOLLO','TEEN','ARABIA','DOGMA','ARACHNOPHOBIA','ROLLERCOASTER','ARGONAUTS','TOWN',
 'ARIZONA','BANG','ARK','RIDGEMONT','ARMAGEDDON','LOST','ARMY','FLINTSTONES','ARSENIC','INDEPENDENCE',
 'ARTIST','COLDBLOODED','ATLANTIS','CAUSE','ATTACKS','HATE','ATTRACTION','NEWTON','AUTUMN','CROW',
 'BABY','HALL','BACKLASH','UNDEFEATED','BADMAN','DAWN','BAKED','CLEOPATRA','BALLOON','HOMEWARD',
 'BALLROOM','MOCKINGBIRD','BANG','KWAI','BANGER','PINOCCHIO','BARBARELLA','STREETCAR','BAREFOOT','MANCHURIAN',
 'BASIC','EASY','BEACH','HEARTBREAKERS','BEAR','GRACELAND','BEAST','HUNCHBACK','BEAUTY','GREASE',
 'BED','HIGHBALL','BEDAZZLED','MARRIED','BEETHOVEN','EXORCIST','BEHAVIOR','RUNAWAY','BENEATH','RUSH',
 'BERETS','AGENT','BETRAYED','REAR','BEVERLY','OUTLAW','BIKINI','BORROWERS','BILKO','ANONYMOUS',
 'BINGO','TALENTED','BIRCH','ANTITRUST','BIRD','INDEPENDENCE','BIRDCAGE','CASPER','BIRDS','PERDITION',
 'BLACKOUT','PRIVATE','BLADE','POLISH','BLANKET','BEVERLY','BLINDNESS','GUN','BLOOD','ARGONAUTS',
 'BLUES','INSTINCT','BOILED','DARES','BONNIE','HOLOCAUST','BOOGIE','AMELIE','BOONDOCK','BALLROOM',
 'BORN','SPINAL','BORROWERS','BEDAZZLED','BOULEVARD','MOB','BOUND','CHEAPER','BOWFINGER','GABLES']
$$;
CREATE FUNCTION pg_temp.w_first() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'MARY','PATRICIA','LINDA','BARBARA','ELIZABETH','JENNIFER','MARIA','SUSAN','MARGARET','DOROTHY',
 'LISA','NANCY','KAREN','BETTY','HELEN','SANDRA','DONNA','CAROL','RUTH','SHARON',
 'MICHELLE','LAURA','SARAH','KIMBERLY','DEBORAH','JESSICA','SHIRLEY','CYNTHIA','ANGELA','MELISSA',
 'JAMES','JOHN','ROBERT','MICHAEL','WILLIAM','DAVID','RICHARD','CHARLES','JOSEPH','THOMAS',
 'CHRISTOPHER','DANIEL','PAUL','MARK','DONALD','GEORGE','KENNETH','STEVEN','EDWARD','BRIAN',
 'RONALD','ANTHONY','KEVIN','JASON','MATTHEW','GARY','TIMOTHY','JOSE','LARRY','JEFFREY',
 'PENELOPE','NICK','ED','JENNIFER','JOHNNY','BETTE','GRACE','MATTHEW','JOE','CHRISTIAN',
 'ZERO','KARL','UMA','VIVIEN','CUBA','FRED','HELEN','DAN','BOB','LUCILLE',
 'KIRSTEN','ELVIS','SANDRA','CAMERON','KEVIN','RIP','JULIA','WOODY','ALEC','SISSY',
 'TIM','MILLA','AUDREY','JUDY','BURT','VAL','TOM','GOLDIE','JODIE','KIRK',
 'SOFIA','LUCAS','EMMA','NOAH','OLIVIA','LIAM','AMELIA','MATEO','MIA','HUGO',
 'YUKI','HIROSHI','AIKO','WEI','MEI','ARJUN','PRIYA','OMAR','LEILA','KWAME']
$$;
CREATE FUNCTION pg_temp.w_last() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'SMITH','JOHNSON','WILLIAMS','JONES','BROWN','DAVIS','MILLER','WILSON','MOORE','TAYLOR',
 'ANDERSON','THOMAS','JACKSON','WHITE','HARRIS','MARTIN','THOMPSON','GARCIA','MARTINEZ','ROBINSON',
 'CLARK','RODRIGUEZ','LEWIS','LEE','WALKER','HALL','ALLEN','YOUNG','HERNANDEZ','KING',
 'GUINESS','WAHLBERG','CHASE','DAVIS','LOLLOBRIGIDA','NICHOLSON','MOSTEL','JOHANSSON','SWANK','GABLE',
 'CAGE','BERRY','WOOD','BERGEN','OLIVIER','COSTNER','VOIGHT','TORN','FAWCETT','TRACY',
 'PALTROW','MCCONAUGHEY','HOFFMAN','DENCH','DUKAKIS','MONROE','DEGENERES','HOPKINS','CRONYN','HACKMAN',
 'O''BRIEN','O''HARA','D''ANGELO','DE LA CRUZ','VAN DER BERG','MCALLISTER','ST. JOHN','SMITH-JONES','LE BLANC','DI MARCO',
 'MÜLLER','GARCÍA','NØRGAARD','ŁUKASIEWICZ','DVOŘÁK','JOSÉ','ÅBERG','FRANÇOIS','NÚÑEZ','ÖZTÜRK',
 'SCHRÖDER','SØRENSEN','KOWALCZYK','ŻUKOWSKI','PÉREZ','GONZÁLEZ','LÓPEZ','BJÖRK','HÄKKINEN','CÔTÉ']
$$;
CREATE FUNCTION pg_temp.w_syl() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'al','an','ar','ba','bel','ber','bo','bra','ca','can','cha','da','del','dor','el','en','fa','fen','ga','gor',
 'ha','hal','in','ja','ka','kar','ki','la','lan','lo','ma','mar','mi','mon','na','nor','o','pa','per','po',
 'ra','ren','ri','ro','sa','san','sel','so','ta','tan','ti','to','tor','u','va','ven','vi','wa','ya','za',
 'ão','ñe','ør','üb','ęk','łó','čo','şe','ő','é'] $$;
CREATE FUNCTION pg_temp.w_cap() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'Al','An','Ar','Ba','Bel','Ber','Bo','Bra','Ca','Can','Cha','Da','Del','Dor','El','En','Fa','Fen','Ga','Gor',
 'Ha','Hal','In','Ja','Ka','Kar','Ki','La','Lan','Lo','Ma','Mar','Mi','Mon','Na','Nor','O','Pa','Per','Po',
 'Ra','Ren','Ri','Ro','Sa','San','Sel','So','Ta','Tan','Ti','To','Tor','U','Va','Ven','Vi','Wa','Ya','Za',
 'Ål','Øs','Ün','Ça','Ži','Łu','Ér','Ñu'] $$;
CREATE FUNCTION pg_temp.w_cityfix() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 '','','','','','','','',' City','burg','ville','abad','pur','grad','holm','stad','-sur-Mer','polis','hafen','ów'] $$;
CREATE FUNCTION pg_temp.w_citypre() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 '','','','','','','','','','','','','San ','Port ','New ','Saint-','El ','Nova ','Bad ','Ciudad '] $$;
CREATE FUNCTION pg_temp.w_district() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'Alberta','QLD','Nagasaki','California','Attika','Mandalay','Texas','Buenos Aires','Shandong','West Bengal',
 'England','Ontario','Gujarat','Punjab','Maharashtra','São Paulo','Minas Gerais','Île-de-France','Québec','Bayern',
 'Niederösterreich','Łódzkie','Zürich','Hokkaidō','Tōkyō','Москва','Κρήτη','Andalucía','Cataluña','Kraków',
 'Gauteng','Lagos','Nairobi','Cairo','Jalisco','Nuevo León','Antioquia','Valparaíso','Lima','Hanoi',
 'Java','Luzon','Central Serbia','Istanbul','Tel Aviv','Kanagawa','Osaka','Seoul','Gyeonggi','Taipei',
 'Victoria','Auckland','Skåne','Västra Götaland','Uusimaa','Reykjavík','Dublin','Galicia','Sicilia','Yucatán']
$$;
CREATE FUNCTION pg_temp.w_street() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'Oak','Maple','Cedar','Lake','Hill','Mill','Church','King','Queen','Station',
 'Park','Market','Hanoi','Lillydale','Workhaven','MySakila','MySQL','Sunset','River','Harbor',
 'Bridge','Orchard','Willow','Elm','Pine','Forest','Meadow','Valley','Garden','Spring'] $$;
CREATE FUNCTION pg_temp.w_stype() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'Street','Avenue','Boulevard','Drive','Lane','Way','Road','Parkway','Place','Loop',
 'Manor','Court','Terrace','Alley','Plaza','Straße','Circle','Square','Ridge','Trail'] $$;
CREATE FUNCTION pg_temp.w_note() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'ring the bell twice','entrance from the courtyard','leave parcels with the concierge','behind the blue gate','above the bakery',
 'use the side door after 6 pm','no deliveries on Sundays','second door on the left','call before delivery','the buzzer is broken, please knock',
 'opposite the old post office','next to the pharmacy','gate code is on the invoice','beware of the dog','around the back, past the garages'] $$;

CREATE FUNCTION pg_temp.w_prep() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY[
 'in','near','behind','beneath','above','outside','inside','across','beyond','along','through','around','toward','past','under'] $$;
CREATE FUNCTION pg_temp.cap(x text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT translate(left(x, 1), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') || substr(x, 2) $$;

-- ASCII character name from one 16-bit number: 2-3 syllables
CREATE FUNCTION pg_temp.name(v int) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT (pg_temp.w_cap())[1 + v % 60] || (pg_temp.w_syl())[1 + v / 60 % 60]
                 || CASE WHEN v / 3600 < 9 THEN (pg_temp.w_syl())[1 + (v / 3600 + v) % 60] ELSE '' END $$;

-- noun phrase from numbers k..k+2 of m
CREATE FUNCTION pg_temp.np(m text, k int) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $f$
DECLARE
    a int := pg_temp.r(m, k + 1);
    b int := pg_temp.r(m, k + 2);
BEGIN
    CASE pg_temp.r(m, k) % 12
    WHEN 0, 1, 2 THEN RETURN 'the ' || pg_temp.z(pg_temp.w_adj(), a) || ' ' || pg_temp.z(pg_temp.w_person(), b);
    WHEN 3 THEN RETURN 'the ' || pg_temp.z(pg_temp.w_person(), b);
    WHEN 4 THEN RETURN pg_temp.name(a);
    WHEN 5 THEN RETURN pg_temp.an(pg_temp.z(pg_temp.w_adj(), a) || ' ' || pg_temp.z(pg_temp.w_noun(), b));
    WHEN 6 THEN RETURN pg_temp.u(ARRAY['her','his','their','its'], a) || ' ' || pg_temp.z(pg_temp.w_noun(), b);
    WHEN 7 THEN RETURN 'the ' || pg_temp.z(pg_temp.w_noun(), a) || ' of the ' || pg_temp.z(pg_temp.w_person(), b);
    WHEN 8 THEN RETURN pg_temp.an(pg_temp.z(pg_temp.w_person(), a)) || ' from ' || pg_temp.z(pg_temp.w_place(), b);
    WHEN 9 THEN RETURN pg_temp.name(a) || ', the ' || pg_temp.z(pg_temp.w_person(), b);
    WHEN 10 THEN RETURN 'the ' || pg_temp.z(pg_temp.w_person(), a) || ' and the ' || pg_temp.z(pg_temp.w_person(), b);
    ELSE RETURN 'the ' || pg_temp.z(pg_temp.w_noun(), a);
    END CASE;
END
$f$;

-- verb phrase from numbers k..k+5 of m
CREATE FUNCTION pg_temp.vp(m text, k int) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $f$
DECLARE
    a int := pg_temp.r(m, k + 1);
    b int := pg_temp.r(m, k + 2);
    o text := pg_temp.np(m, k + 3);
BEGIN
    CASE pg_temp.r(m, k) % 12
    WHEN 0, 1 THEN RETURN pg_temp.z(pg_temp.w_vpast(), a) || ' ' || o;
    WHEN 2 THEN RETURN pg_temp.z(pg_temp.w_adv(), b) || ' ' || pg_temp.z(pg_temp.w_vpast(), a) || ' ' || o;
    WHEN 3 THEN RETURN 'had to ' || pg_temp.z(pg_temp.w_verb(), a) || ' ' || o;
    WHEN 4 THEN RETURN 'could not ' || pg_temp.z(pg_temp.w_verb(), a) || ' ' || o;
    WHEN 5 THEN RETURN 'refused to ' || pg_temp.z(pg_temp.w_verb(), a) || ' ' || o;
    WHEN 6 THEN RETURN pg_temp.z(pg_temp.w_vpast(), a) || ' ' || o || ' ' || pg_temp.z(pg_temp.w_time(), b);
    WHEN 7 THEN RETURN 'tried to ' || pg_temp.z(pg_temp.w_verb(), a) || ' ' || o || ' '
                       || pg_temp.u(pg_temp.w_prep(), b) || ' ' || pg_temp.z(pg_temp.w_place(), pg_temp.mix(b));
    WHEN 8 THEN RETURN 'was ' || pg_temp.z(pg_temp.w_adj(), a) || ' and ' || pg_temp.z(pg_temp.w_adj(), b);
    WHEN 9 THEN RETURN 'never ' || pg_temp.z(pg_temp.w_vpast(), a) || ' ' || o;
    WHEN 10 THEN RETURN pg_temp.z(pg_temp.w_vpast(), a) || ' ' || o || ' with '
                        || pg_temp.an(pg_temp.z(pg_temp.w_adj(), b) || ' ' || pg_temp.z(pg_temp.w_noun(), pg_temp.mix(b)));
    ELSE RETURN 'spent ' || (2 + a % 38)::text || ' years trying to ' || pg_temp.z(pg_temp.w_verb(), b) || ' ' || o;
    END CASE;
END
$f$;

-- one sentence of film description prose: tmpl = 0 gives the classic pagila
-- one-liner, anything else a sentence from the small grammar above
CREATE FUNCTION pg_temp.sentence(seed text, tmpl int) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT
    AS $f$
DECLARE
    m text := md5(seed) || md5(seed || 'a') || md5(seed || 'b') || md5(seed || 'c');
    s1 text;
    s2 text;
BEGIN
    IF tmpl = 0 THEN
        -- the classic pagila one-liner
        RETURN format('%s %s of %s and %s who must %s %s in %s.',
            pg_temp.cap_an(pg_temp.z(pg_temp.w_adj(), pg_temp.r(m, 0))), pg_temp.z(pg_temp.w_genre(), pg_temp.r(m, 1)),
            pg_temp.an(pg_temp.z(pg_temp.w_person(), pg_temp.r(m, 2))), pg_temp.an(pg_temp.z(pg_temp.w_person(), pg_temp.r(m, 3))),
            pg_temp.z(pg_temp.w_verb(), pg_temp.r(m, 4)), pg_temp.an(pg_temp.z(pg_temp.w_person(), pg_temp.r(m, 5))),
            pg_temp.z(pg_temp.w_place(), pg_temp.r(m, 6)));
    END IF;
    s1 := pg_temp.np(m, 2) || ' ' || pg_temp.vp(m, 5);
    CASE pg_temp.r(m, 0) % 15
    WHEN 0, 1, 2 THEN RETURN pg_temp.cap(s1) || '.';
    WHEN 3 THEN RETURN pg_temp.cap(s1) || ' ' || pg_temp.z(pg_temp.w_time(), pg_temp.r(m, 21)) || '.';
    WHEN 4 THEN RETURN 'In ' || pg_temp.z(pg_temp.w_place(), pg_temp.r(m, 20)) || ', ' || s1 || '.';
    WHEN 5 THEN RETURN 'In ' || (1890 + pg_temp.r(m, 24) % 130)::text || ', ' || s1 || '.';
    WHEN 6 THEN RETURN pg_temp.cap(pg_temp.z(pg_temp.w_time(), pg_temp.r(m, 21))) || ', ' || s1 || '.';
    WHEN 7 THEN RETURN '"' || pg_temp.cap(s1) || '," the ' || pg_temp.z(pg_temp.w_person(), pg_temp.r(m, 26))
                       || ' said ' || pg_temp.z(pg_temp.w_adv(), pg_temp.r(m, 23)) || '.';
    WHEN 8 THEN RETURN 'Critics praised the ' || pg_temp.z(pg_temp.w_adj(), pg_temp.r(m, 26)) || ' '
                       || pg_temp.z(pg_temp.w_plural(), pg_temp.r(m, 27)) || ', but ' || s1 || '.';
    WHEN 9 THEN RETURN 'It is ' || pg_temp.an(pg_temp.z(pg_temp.w_adj(), pg_temp.r(m, 26)) || ' '
                       || pg_temp.z(pg_temp.w_genre(), pg_temp.r(m, 25))) || ' about ' || pg_temp.np(m, 11)
                       || ' and ' || pg_temp.np(m, 14) || '.';
    ELSE
        s2 := pg_temp.np(m, 11) || ' ' || pg_temp.vp(m, 14);
        CASE pg_temp.r(m, 0) % 15
        WHEN 10, 11 THEN RETURN pg_temp.cap(s1) || ', ' || pg_temp.z(pg_temp.w_conj(), pg_temp.r(m, 22)) || ' ' || s2 || '.';
        WHEN 12 THEN RETURN 'When ' || s1 || ', ' || s2 || '.';
        WHEN 13 THEN RETURN pg_temp.cap(s1) || ' because ' || s2 || '.';
        ELSE RETURN pg_temp.cap(s1) || '; ' || s2 || ' ' || pg_temp.z(pg_temp.w_time(), pg_temp.r(m, 21)) || '.';
        END CASE;
    END CASE;
END
$f$;

-- uuidv7-shaped uuid: 48-bit unix milliseconds (ts must be whole seconds, plus
-- ms milliseconds; integer math only, extract() is float8 on 13 and numeric on
-- 14+), version 7, variant 10xx, remaining bits from the hex string m (>= 19 digits)
CREATE FUNCTION pg_temp.uuid7(ts timestamptz, ms int, m text) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT
    AS $$ SELECT (lpad(to_hex(extract(epoch FROM ts)::bigint * 1000 + ms), 12, '0')
                  || '7' || substr(m, 1, 3)
                  || substr('89ab', 1 + ('x' || substr(m, 4, 1))::bit(4)::int % 4, 1)
                  || substr(m, 5, 15))::uuid $$;

------------------------------------------------------------------------------
-- Fixed-size dimension tables
------------------------------------------------------------------------------

INSERT INTO public.language (language_id, name, last_update)
SELECT i, n, timestamptz '2022-02-15 10:02:19+00'
FROM unnest(ARRAY['English','Italian','Japanese','Mandarin','French','German']) WITH ORDINALITY AS u(n, i);

INSERT INTO public.category (category_id, name, last_update)
SELECT i, n, timestamptz '2022-02-15 09:46:27+00'
FROM unnest(ARRAY['Action','Animation','Children','Classics','Comedy','Documentary','Drama','Family',
                  'Foreign','Games','Horror','Music','New','Sci-Fi','Sports','Travel']) WITH ORDINALITY AS u(n, i);

INSERT INTO public.country (country_id, country, last_update)
SELECT i, n, timestamptz '2022-02-15 09:44:00+00'
FROM unnest(ARRAY[
 'Afghanistan','Algeria','American Samoa','Angola','Anguilla','Argentina','Armenia','Australia','Austria','Azerbaijan',
 'Bahrain','Bangladesh','Belarus','Bolivia','Brazil','Brunei','Bulgaria','Cambodia','Cameroon','Canada',
 'Chad','Chile','China','Colombia','Congo, The Democratic Republic of the','Czech Republic','Dominican Republic','Ecuador','Egypt','Estonia',
 'Ethiopia','Faroe Islands','Finland','France','French Guiana','French Polynesia','Gambia','Germany','Greece','Greenland',
 'Holy See (Vatican City State)','Hong Kong','Hungary','India','Indonesia','Iran','Iraq','Israel','Italy','Japan',
 'Kazakstan','Kenya','Kuwait','Latvia','Liechtenstein','Lithuania','Madagascar','Malawi','Malaysia','Mexico',
 'Moldova','Morocco','Mozambique','Myanmar','Nauru','Nepal','Netherlands','New Zealand','Nigeria','North Korea',
 'Oman','Pakistan','Paraguay','Peru','Philippines','Poland','Puerto Rico','Romania','Réunion','Russian Federation',
 'Saint Vincent and the Grenadines','Saudi Arabia','Senegal','Slovakia','South Africa','South Korea','Spain','Sri Lanka','Sudan','Sweden',
 'Switzerland','Taiwan','Tanzania','Thailand','Tonga','Tunisia','Turkey','Turkmenistan','Tuvalu','Ukraine',
 'United Arab Emirates','United Kingdom','United States','Venezuela','Vietnam','Virgin Islands, U.S.','Yemen','Yugoslavia','Zambia'
]) WITH ORDINALITY AS u(n, i);

------------------------------------------------------------------------------
-- Geography: city, address
------------------------------------------------------------------------------

INSERT INTO public.city (city_id, city, country_id, last_update)
SELECT i,
       pg_temp.u(pg_temp.w_citypre(), pg_temp.r(h.m, 0))
         || pg_temp.u(pg_temp.w_cap(), pg_temp.r(h.m, 1))
         || pg_temp.u(pg_temp.w_syl(), pg_temp.r(h.m, 2))
         || CASE WHEN pg_temp.r(h.m, 3) % 2 = 0 THEN pg_temp.u(pg_temp.w_syl(), pg_temp.r(h.m, 4)) ELSE '' END
         || pg_temp.u(pg_temp.w_cityfix(), pg_temp.r(h.m, 5)),
       -- skewed towards some countries, like the real data (India, China, US, ...)
       1 + ((((pg_temp.r(h.m, 6)::bigint * pg_temp.r(h.m, 6) * 109) >> 32) * 43) % 109)::int,
       timestamptz '2022-02-15 09:45:25+00'
FROM generate_series(1, :n_city) AS i,
     LATERAL (SELECT md5('city' || i) AS m OFFSET 0) AS h;

INSERT INTO public.address (address_id, address, address2, district, city_id, postal_code, phone, last_update)
VALUES (1, '47 MySakila Drive', NULL, 'Alberta', 1, '', '', timestamptz '2022-02-15 09:45:30+00'),
       (2, '28 MySQL Boulevard', NULL, 'QLD', 2, '', '', timestamptz '2022-02-15 09:45:30+00'),
       (3, '23 Workhaven Lane', NULL, 'Alberta', 3, '', '14033335568', timestamptz '2022-02-15 09:45:30+00'),
       (4, '1411 Lillydale Drive', NULL, 'QLD', 4, '', '6172235589', timestamptz '2022-02-15 09:45:30+00');

INSERT INTO public.address (address_id, address, address2, district, city_id, postal_code, phone, last_update)
SELECT i,
       (1 + pg_temp.r(h.m, 0) % 1999)::text || ' '
         || CASE WHEN pg_temp.r(h.m, 1) % 3 = 0
                 THEN pg_temp.u(pg_temp.w_cap(), pg_temp.r(h.m, 2)) || pg_temp.u(pg_temp.w_syl(), pg_temp.r(h.m, 3))
                 ELSE pg_temp.u(pg_temp.w_street(), pg_temp.r(h.m, 2)) END
         || ' ' || pg_temp.u(pg_temp.w_stype(), pg_temp.r(h.m, 4)),
       CASE WHEN :long_text
            THEN 'Apartment ' || (1 + pg_temp.r(h.m, 5) % 120)::text || ', '
                 || pg_temp.u(ARRAY['first','second','third','fourth','fifth','top','ground'], pg_temp.r(h.m, 6))
                 || ' floor, ' || pg_temp.u(pg_temp.w_note(), pg_temp.r(h.m, 7))
                 || CASE WHEN pg_temp.r(h.m, 8) % 2 = 0 THEN '; ' || pg_temp.u(pg_temp.w_note(), pg_temp.r(h.m, 9)) ELSE '' END
            ELSE '' END,
       pg_temp.z(pg_temp.w_district(), pg_temp.r(h.m, 10)),
       1 + (pg_temp.r32(h.m, 6) % :n_city)::int,
       CASE WHEN pg_temp.r(h.m, 11) % 50 = 0 THEN '' ELSE lpad((pg_temp.r32(h.m, 7) % 100000)::text, 5, '0') END,
       (100 + pg_temp.r(h.m, 18) % 900)::text || lpad((pg_temp.r32(h.m, 8) % 1000000000)::text, 9, '0'),
       timestamptz '2022-02-15 09:45:30+00'
FROM generate_series(5, :n_address) AS i,
     LATERAL (SELECT md5('address' || i) || md5('address/' || i) || md5('address//' || i) AS m OFFSET 0) AS h;

------------------------------------------------------------------------------
-- Stores and staff (store.manager_staff_id has no FK, staff.store_id does)
------------------------------------------------------------------------------

INSERT INTO public.store (store_id, manager_staff_id, address_id, last_update)
VALUES (1, 1, 1, timestamptz '2022-02-15 09:57:12+00'),
       (2, 2, 2, timestamptz '2022-02-15 09:57:12+00');

INSERT INTO public.staff (staff_id, first_name, last_name, address_id, email, store_id, active, username, password, last_update, picture)
VALUES (1, 'Mike', 'Hillyer', 3, 'Mike.Hillyer@sakilastaff.com', 1, true, 'Mike',
        '8cb2237d0679ca88db6464eac60da96345513964', timestamptz '2022-05-16 16:13:11.79328+00',
        '\x89504e470d0a1a0a'::bytea || decode(repeat(md5('pgward staff picture'), 64), 'hex')),
       (2, 'Jon', 'Stephens', 4, 'Jon.Stephens@sakilastaff.com', 2, true, 'Jon',
        '8cb2237d0679ca88db6464eac60da96345513964', timestamptz '2022-05-16 16:13:11.79328+00', NULL);

------------------------------------------------------------------------------
-- Catalogue: actor, film, film_actor, film_category, inventory
------------------------------------------------------------------------------

INSERT INTO public.actor (actor_id, first_name, last_name, last_update)
SELECT i,
       pg_temp.u(pg_temp.w_first(), pg_temp.r(h.m, 0)),
       pg_temp.u(pg_temp.w_last(), pg_temp.r(h.m, 1) % 60),   -- ASCII surnames for actors
       timestamptz '2022-02-15 09:34:33+00'
FROM generate_series(1, :n_actor) AS i,
     LATERAL (SELECT md5('actor' || i) AS m OFFSET 0) AS h;

-- film.fulltext is filled by film_fulltext_trigger, length_hours is generated
INSERT INTO public.film (film_id, title, description, release_year, language_id, original_language_id,
                         rental_duration, rental_rate, length, replacement_cost, rating, last_update, special_features)
SELECT i,
       pg_temp.u(pg_temp.w_title(), pg_temp.r(h.m, 0)) || ' ' || pg_temp.u(pg_temp.w_title(), pg_temp.r(h.m, 1)),
       d.description,
       1950 + pg_temp.r(h.m, 2) % 76,
       CASE WHEN pg_temp.r(h.m, 3) % 10 < 7 THEN 1 ELSE 1 + pg_temp.r(h.m, 3) % 6 END,
       CASE WHEN pg_temp.r(h.m, 4) % 8 = 0 THEN 1 + pg_temp.r(h.m, 5) % 6 END,
       3 + pg_temp.r(h.m, 6) % 5,
       (ARRAY[0.99, 2.99, 4.99])[1 + pg_temp.r(h.m, 7) % 3],
       46 + pg_temp.r(h.m, 8) % 140,
       9.99 + pg_temp.r(h.m, 9) % 21,
       (ARRAY['G','PG','PG-13','R','NC-17']::public.mpaa_rating[])[1 + pg_temp.r(h.m, 10) % 5],
       timestamptz '2022-09-10 16:46:03.905795+00',
       ARRAY(SELECT f FROM unnest(ARRAY['Trailers','Commentaries','Deleted Scenes','Behind the Scenes'])
                          WITH ORDINALITY AS sf(f, k)
             WHERE (1 + pg_temp.r(h.m, 11) % 15) & (1 << (k::int - 1)) <> 0
             ORDER BY k)
FROM generate_series(1, :n_film) AS i,
     LATERAL (SELECT md5('film' || i) || md5('film/' || i) AS m OFFSET 0) AS h,
     LATERAL (SELECT string_agg(pg_temp.sentence('film' || i || '.' || j, CASE WHEN j = 1 THEN 0 ELSE -1 END),
                                CASE WHEN j % 6 = 1 THEN E'\n\n' ELSE ' ' END ORDER BY j) AS description
              FROM generate_series(1, CASE WHEN :long_text THEN 8 + pg_temp.r(h.m, 12) % 33 ELSE 1 END) AS j) AS d;

INSERT INTO public.film_category (film_id, category_id, last_update)
SELECT i, 1 + pg_temp.r(md5('category' || i), 0) % 16, timestamptz '2022-02-15 10:07:09+00'
FROM generate_series(1, :n_film) AS i;

-- 1..10 distinct actors per film: (start + j*step) mod n_actor, 9*19 < 200 <= n_actor
INSERT INTO public.film_actor (actor_id, film_id, last_update)
SELECT 1 + ((pg_temp.r32(h.m, 0) + j * (1 + pg_temp.r(h.m, 6) % 19)) % :n_actor)::int,
       i,
       timestamptz '2022-02-15 10:05:03+00'
FROM generate_series(1, :n_film) AS i,
     LATERAL (SELECT md5('cast' || i) AS m OFFSET 0) AS h,
     LATERAL generate_series(0, pg_temp.r(h.m, 7) % 10) AS j;

-- 2..7 copies per film, ~4% of films have none (like pagila)
INSERT INTO public.inventory (inventory_id, film_id, store_id, last_update)
SELECT row_number() OVER (ORDER BY i, c), i, 1 + (pg_temp.r(h.m, 2) + c) % 2,
       timestamptz '2022-02-15 10:09:17+00'
FROM generate_series(1, :n_film) AS i,
     LATERAL (SELECT md5('inventory' || i) AS m OFFSET 0) AS h,
     LATERAL generate_series(1, CASE WHEN pg_temp.r(h.m, 0) % 25 = 0 THEN 0 ELSE 2 + pg_temp.r(h.m, 1) % 6 END) AS c
ORDER BY i, c;

SELECT count(*) AS n_inventory FROM public.inventory \gset

------------------------------------------------------------------------------
-- Customers
------------------------------------------------------------------------------

INSERT INTO public.customer (customer_id, store_id, first_name, last_name, email, address_id,
                             activebool, create_date, last_update, active, uuid)
SELECT i, 1 + pg_temp.r(h.m, 0) % 2, n.fn, n.ln,
       pg_temp.mailpart(n.fn) || '.' || pg_temp.mailpart(n.ln) || '@sakilacustomer.org',
       i + 4,
       pg_temp.r(h.m, 2) % 40 <> 0,
       date '2021-06-01' + pg_temp.r(h.m, 3) % 200,
       timestamptz '2022-02-15 09:57:20+00',
       CASE WHEN pg_temp.r(h.m, 2) % 40 = 0 THEN 0 ELSE 1 END,
       pg_temp.uuid7(timestamptz '2021-06-01 00:00:00+00' + pg_temp.r32(h.m, 3) % 17280000 * interval '1 second',
                     pg_temp.r(h.m, 5) % 1000, substr(h.m, 33))
FROM generate_series(1, :n_customer) AS i,
     LATERAL (SELECT md5('customer' || i) || md5('customer/' || i) AS m OFFSET 0) AS h,
     LATERAL (SELECT pg_temp.u(pg_temp.w_first(), pg_temp.r(h.m, 1)) AS fn,
                     pg_temp.z(pg_temp.w_last(), pg_temp.r(h.m, 4)) AS ln OFFSET 0) AS n;

------------------------------------------------------------------------------
-- Rentals: one per time slot (strictly increasing rental_date), 2022-01-01 ..
-- 2026-07-25; ~0.5% of the most recent ones are not returned yet
------------------------------------------------------------------------------

INSERT INTO public.rental (rental_id, rental_date, inventory_id, customer_id, return_date, staff_id, last_update, uuid)
SELECT i, d.rd,
       1 + (pg_temp.r32(h.m, 1) % :n_inventory)::int,
       1 + (pg_temp.r32(h.m, 2) % :n_customer)::int,
       d.ret,
       1 + pg_temp.r(h.m, 15) % 2,
       coalesce(d.ret, d.rd) + pg_temp.r(h.m, 13) / 2 % 3600 * interval '1 second',
       pg_temp.uuid7(d.rd, pg_temp.r(h.m, 14) % 1000, substr(h.m, 33))
FROM generate_series(1, :n_rental) AS i,
     LATERAL (SELECT md5('rental' || i) || md5('rental/' || i) AS m OFFSET 0) AS h,
     LATERAL (SELECT rd,
                     CASE WHEN i > :n_rental * 0.99 AND pg_temp.r(h.m, 13) % 2 = 0 THEN NULL
                          ELSE rd + (3600 + pg_temp.r32(h.m, 3) % (9 * 86400)) * interval '1 second' END AS ret
              FROM (SELECT timestamptz '2022-01-01 00:00:00+00'
                           + ((i - 1)::bigint * :rental_step + pg_temp.r32(h.m, 0) % :rental_step) * interval '1 second' AS rd
                    OFFSET 0) AS rd0) AS d;

------------------------------------------------------------------------------
-- Payments: ~97% of rentals, amount = rental_rate + $1 per overdue day,
-- paid within 2 days of the rental (so always inside the 2022-01..2026-07 partitions)
------------------------------------------------------------------------------

INSERT INTO public.payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date, uuid)
SELECT row_number() OVER (ORDER BY r.rental_id),
       r.customer_id, r.staff_id, r.rental_id,
       f.rental_rate + CASE WHEN r.return_date IS NULL THEN 0
                            ELSE greatest(0, floor(extract(epoch FROM r.return_date - r.rental_date) / 86400)::int
                                             - f.rental_duration) END,
       p.ps + p.us * interval '1 microsecond',
       pg_temp.uuid7(p.ps, p.us / 1000, substr(h.m, 33))
FROM public.rental AS r
     JOIN public.inventory AS i ON i.inventory_id = r.inventory_id
     JOIN public.film AS f ON f.film_id = i.film_id,
     LATERAL (SELECT md5('payment' || r.rental_id) || md5('payment/' || r.rental_id) AS m OFFSET 0) AS h,
     LATERAL (SELECT r.rental_date + pg_temp.r32(h.m, 0) % 172800 * interval '1 second' AS ps,
                     (pg_temp.r32(h.m, 1) % 1000000)::int AS us OFFSET 0) AS p
WHERE pg_temp.r(h.m, 4) % 100 >= 3
ORDER BY r.rental_id;

------------------------------------------------------------------------------
-- Sequences, materialized view, statistics
------------------------------------------------------------------------------

SELECT setval('public.actor_actor_id_seq', (SELECT max(actor_id) FROM public.actor)),
       setval('public.address_address_id_seq', (SELECT max(address_id) FROM public.address)),
       setval('public.category_category_id_seq', (SELECT max(category_id) FROM public.category)),
       setval('public.city_city_id_seq', (SELECT max(city_id) FROM public.city)),
       setval('public.country_country_id_seq', (SELECT max(country_id) FROM public.country)),
       setval('public.customer_customer_id_seq', (SELECT max(customer_id) FROM public.customer)),
       setval('public.film_film_id_seq', (SELECT max(film_id) FROM public.film)),
       setval('public.inventory_inventory_id_seq', (SELECT max(inventory_id) FROM public.inventory)),
       setval('public.language_language_id_seq', (SELECT max(language_id) FROM public.language)),
       setval('public.payment_payment_id_seq', (SELECT max(payment_id) FROM public.payment)),
       setval('public.rental_rental_id_seq', (SELECT max(rental_id) FROM public.rental)),
       setval('public.staff_staff_id_seq', (SELECT max(staff_id) FROM public.staff)),
       setval('public.store_store_id_seq', (SELECT max(store_id) FROM public.store))
\gset pgward_seq_

REFRESH MATERIALIZED VIEW public.rental_by_category;

COMMIT;

ANALYZE;

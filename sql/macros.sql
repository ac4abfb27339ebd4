-- Macros every model may use; run by pipelines.warehouse.db.connect() on each connection.

-- NULL spellings of EOIR text (docs/EOIR_FORMAT.md#null-spellings, [MB] is_nul_like): empty,
-- whitespace, `N/A`, the FOIA exemption marker `b6`, `A.2.a`, all-`?` and all-`0` strings. Values
-- are trimmed. Trimming takes TABs too: a repaired tab shift keeps a typed TAB inside free text
-- (`BROOKLYN<TAB>`).
CREATE OR REPLACE TEMP MACRO eoir_trim(x) AS trim(x, ' ' || chr(9) || chr(13) || chr(10));

-- (The regular expression `(|N/A|b6|A\.2\.a|\?+|0+)`, written without one: an all-`?` or
-- all-`0` value is one that ltrim empties. Evaluated on every code of every row, the expression
-- cost about a sixth of staging.)
CREATE OR REPLACE TEMP MACRO eoir_null(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN eoir_trim(x) IN ('', 'N/A', 'b6', 'A.2.a')
              OR ltrim(eoir_trim(x), '?') = '' OR ltrim(eoir_trim(x), '0') = '' THEN NULL
         ELSE eoir_trim(x) END;

-- The same, but `N/A` is a real code ("Not Applicable") in CASEPRIORITY_CODE and the juvenile
-- lookups ([MB] lookups show it turned into a NaN key; [DK] raw row carries `N/A`).
CREATE OR REPLACE TEMP MACRO eoir_null_keep_na(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN eoir_trim(x) = 'N/A' THEN 'N/A'
         ELSE eoir_null(x) END;

-- Dates are `YYYY-MM-DD HH:MM:SS.mmm` with a zero time in case tables; take the date part.
-- SQL Server's default 1900-01-01 and other 1900-era values are placeholders, not dates
-- ([DK] README: bogus 1900-era dates): anything before 1901 becomes NULL.
-- One parse a value: greatest() lifts every earlier date (and skips a NULL) to 1900-12-31, which
-- nullif() then empties.
CREATE OR REPLACE TEMP MACRO eoir_date(x) AS
    nullif(greatest(try_strptime(left(eoir_trim(x), 10), '%Y-%m-%d')::DATE, DATE '1900-12-31'),
           DATE '1900-12-31');

-- True when a raw date value was present but is not a usable date (counted by checks).
CREATE OR REPLACE TEMP MACRO eoir_date_rejected(x) AS
    eoir_null(x) IS NOT NULL AND eoir_date(x) IS NULL;

-- Booleans: `1`/`0` in current files, `Y`/`N` in B_TblProceeding.CRIM_IND ([MB] dtypes),
-- `True`/`False` in 2014-era lookup exports ([JG]).
CREATE OR REPLACE TEMP MACRO eoir_bool(x) AS
    CASE upper(eoir_trim(x)) WHEN '1' THEN true WHEN 'Y' THEN true WHEN 'TRUE' THEN true
                        WHEN '0' THEN false WHEN 'N' THEN false WHEN 'FALSE' THEN false END;

CREATE OR REPLACE TEMP MACRO eoir_int(x) AS try_cast(eoir_trim(x) AS BIGINT);

-- Codes are compared upper-case and trimmed.
CREATE OR REPLACE TEMP MACRO eoir_code(x) AS upper(eoir_null(x));

-- Time from the NTA to a date, in the bands the models use ('unknown' when either is missing or
-- the NTA postdates the day).
CREATE OR REPLACE TEMP MACRO nta_age_band(nta, on_day) AS
    CASE WHEN nta IS NULL OR on_day IS NULL OR nta > on_day THEN 'unknown'
         WHEN date_diff('day', nta, on_day) < 365 THEN '0-1y'
         WHEN date_diff('day', nta, on_day) < 730 THEN '1-2y'
         WHEN date_diff('day', nta, on_day) < 1461 THEN '2-4y'
         ELSE '4y+' END;

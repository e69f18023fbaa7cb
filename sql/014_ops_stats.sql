-- 014: the back office's reads (issue 15): the statistics of the offices'
-- days and of the deliveries, the delivery budget of the current period
-- with its batches, and the operators' worklist of applications.  Reads
-- only: every number is computed from the rows that make it, when asked.

-- The worklist: the applications of one status, oldest first, one page at
-- a time (keyset on id).
CREATE INDEX application_by_status ON application (status, id);

-- The office an application belongs to: where it is picked up, or for a
-- document sent by post, where it waits if it cannot be delivered.
CREATE FUNCTION application_office(p_pickup_office text,
                                   p_kecamatan_code text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(p_pickup_office, pickup_office_of(p_kecamatan_code))
$$;

-- The delivery budget of the period holding p_today (WIB): its amount, what
-- its batches spent (used), what the post applications accepted and not yet
-- batched will spend (pending, as application_submit() counts it), and what
-- is left for new submissions.  NULL: no period holds p_today (the
-- scheduler has not yet written one), no limit is known.
CREATE FUNCTION ops_delivery_budget(p_today date) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
               'period', json_build_object(
                   'from', to_char(p.starts, 'YYYY-MM-DD'),
                   'to', to_char(p.ends, 'YYYY-MM-DD')),
               'budget', p.amount,
               'used', b.used,
               'pending', b.pending,
               'left', greatest(p.amount - b.used - b.pending, 0))
      FROM delivery_period p,
           LATERAL delivery_budget_of(p.starts, p.ends) b
     WHERE p_today BETWEEN p.starts AND p.ends
$$;

-- GET /api/v1/ops/delivery: the budget of the current period and its
-- batches, newest first (the last p_limit of them; batch_count says how
-- many there are), each with its manifest's state and its deliveries by
-- status.  A batch costs the budget one delivery per item.
CREATE FUNCTION ops_delivery(p_today date, p_limit integer) RETURNS json
LANGUAGE sql STABLE SET jit = off AS $$
    WITH p AS (SELECT * FROM delivery_period
                WHERE p_today BETWEEN starts AND ends),
    o AS (SELECT ops_delivery_budget(p_today) AS j)
    SELECT json_build_object(
        'period', o.j -> 'period',
        'budget', o.j -> 'budget',
        'used', o.j -> 'used',
        'pending', o.j -> 'pending',
        'left', o.j -> 'left',
        'batch_count', (SELECT count(*) FROM delivery_batch b, p
                         WHERE b.night BETWEEN p.starts AND p.ends),
        'batches', COALESCE((
            SELECT json_agg(json_build_object(
                'id', b.id, 'code', b.code,
                'night', to_char(b.night, 'YYYY-MM-DD'),
                'kecamatan', b.kecamatan_code, 'kecamatan_name', k.name,
                'created_at', to_char(b.created_at AT TIME ZONE 'Asia/Jakarta',
                                      'YYYY-MM-DD"T"HH24:MI:SS"+07:00"'),
                'item_count', b.item_count,
                'cost', b.item_count,
                'manifest', json_build_object(
                    'status', CASE WHEN b.manifest_written_at IS NULL
                                   THEN 'pending' ELSE 'written' END,
                    'written_at',
                    to_char(b.manifest_written_at AT TIME ZONE 'Asia/Jakarta',
                            'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')),
                'deliveries', (SELECT json_build_object(
                        'batched', count(*) FILTER (WHERE d.status = 'batched'),
                        'in_transit',
                        count(*) FILTER (WHERE d.status = 'in_transit'),
                        'delivered',
                        count(*) FILTER (WHERE d.status = 'delivered'),
                        'returned',
                        count(*) FILTER (WHERE d.status = 'returned'))
                      FROM delivery d WHERE d.batch_id = b.id))
                ORDER BY b.night DESC, b.id DESC)
              FROM (SELECT b.* FROM delivery_batch b, p
                     WHERE b.night BETWEEN p.starts AND p.ends
                     ORDER BY b.night DESC, b.id DESC
                     LIMIT p_limit) b
              JOIN kecamatan k ON k.code = b.kecamatan_code), '[]'::json))
      FROM o
$$;

-- GET /api/v1/ops/stats: per office (p_offices, nginx's) and day of
-- [p_from, p_to]:
--   booked       every appointment made for that day, whatever its status
--   checked_in   those checked in (checked_in_at set: waiting, called,
--                served, or absent when called)
--   served, no_show, cancelled (by the citizen or the office)
--   quota        the day's quota of the office: per service enabled in
--                nginx (p_services, p_quotas: its default), the operator's
--                override (quota_override) or the default; 0 on a day the
--                office is closed (a closure, or a weekday of
--                p_closed_weekdays, bit 0 Sunday, that no opening opens)
--   quota_filled the appointments not cancelled / quota (NULL: quota 0)
--   wait_*       seconds from check-in to the first call (called_at), the
--                median and the 90th percentile (percentile_cont)
-- and per day the deliveries: items batched (the batches of that night),
-- and the courier's events delivered, failed, returned (their WIB date);
-- with the budget of the period holding p_today.  The planner's guess of
-- its cost (per-cell subqueries over generated rows) is far above what it
-- does and would have it JIT-compiled, seconds for milliseconds of work:
-- jit is off within.
CREATE FUNCTION ops_stats(p_from date, p_to date, p_offices text[],
                          p_services text[], p_quotas integer[],
                          p_closed_weekdays integer, p_today date)
RETURNS json
LANGUAGE sql STABLE SET jit = off AS $$
    WITH d AS (SELECT g::date AS date
                 FROM generate_series(p_from, p_to, interval '1 day') g),
    s AS (SELECT * FROM unnest(p_services, p_quotas) AS s (service, quota)),
    a AS (
        SELECT a.office, a.date,
               count(*) AS booked,
               count(*) FILTER (WHERE a.checked_in_at IS NOT NULL)
                   AS checked_in,
               count(*) FILTER (WHERE a.status = 'served') AS served,
               count(*) FILTER (WHERE a.status = 'no_show') AS no_show,
               count(*) FILTER (WHERE a.status IN ('cancelled',
                                                   'cancelled_by_office'))
                   AS cancelled,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM a.called_at - a.checked_in_at))
                   FILTER (WHERE a.called_at IS NOT NULL) AS wait_median,
               percentile_cont(0.9) WITHIN GROUP (
                   ORDER BY extract(epoch FROM a.called_at - a.checked_in_at))
                   FILTER (WHERE a.called_at IS NOT NULL) AS wait_p90
          FROM appointment a
         WHERE a.date BETWEEN p_from AND p_to
           AND a.office = ANY (p_offices)
         -- in the order of appointment_by_day (date, office, ...): no
         -- sort of the range's rows, only each day's waits
         GROUP BY a.date, a.office),
    o AS (SELECT DISTINCT unnest(p_offices) AS office),
    closed AS (
        SELECT DISTINCT x.date, o.office
          FROM calendar_closure x JOIN o
            ON x.office = o.office OR x.office IS NULL
         WHERE x.date BETWEEN p_from AND p_to),
    opened AS (
        SELECT DISTINCT g.date, o.office
          FROM calendar_opening g JOIN o
            ON g.office = o.office OR g.office IS NULL
         WHERE g.date BETWEEN p_from AND p_to),
    -- an override changes its service's share of the default
    v AS (
        SELECT v.date, v.office, sum(v.quota - s.quota) AS delta
          FROM quota_override v JOIN s ON s.service = v.service
         WHERE v.date BETWEEN p_from AND p_to
           AND v.office = ANY (p_offices)
         GROUP BY v.date, v.office),
    q AS (
        SELECT d.date, o.office,
               CASE WHEN x.date IS NOT NULL
                         OR ((p_closed_weekdays
                              >> extract(dow FROM d.date)::int) & 1 = 1
                             AND g.date IS NULL)
                    THEN 0
                    ELSE (SELECT COALESCE(sum(s.quota), 0) FROM s)
                         + COALESCE(v.delta, 0)
               END AS quota
          FROM d CROSS JOIN o
          LEFT JOIN closed x ON x.date = d.date AND x.office = o.office
          LEFT JOIN opened g ON g.date = d.date AND g.office = o.office
          LEFT JOIN v ON v.date = d.date AND v.office = o.office),
    days AS (
        SELECT q.date, q.office, q.quota,
               COALESCE(a.booked, 0) AS booked,
               COALESCE(a.checked_in, 0) AS checked_in,
               COALESCE(a.served, 0) AS served,
               COALESCE(a.no_show, 0) AS no_show,
               COALESCE(a.cancelled, 0) AS cancelled,
               a.wait_median, a.wait_p90
          FROM q LEFT JOIN a ON a.office = q.office AND a.date = q.date),
    e AS (
        SELECT (e.at AT TIME ZONE 'Asia/Jakarta')::date AS date,
               count(*) FILTER (WHERE e.status = 'delivered') AS delivered,
               count(*) FILTER (WHERE e.status = 'failed') AS failed,
               count(*) FILTER (WHERE e.status = 'returned') AS returned
          FROM delivery_event e
         WHERE e.at >= p_from::timestamp AT TIME ZONE 'Asia/Jakarta'
           AND e.at < (p_to + 1)::timestamp AT TIME ZONE 'Asia/Jakarta'
         GROUP BY 1),
    b AS (
        SELECT b.night AS date, sum(b.item_count) AS batched
          FROM delivery_batch b
         WHERE b.night BETWEEN p_from AND p_to
         GROUP BY b.night)
    SELECT json_build_object(
        'from', to_char(p_from, 'YYYY-MM-DD'),
        'to', to_char(p_to, 'YYYY-MM-DD'),
        'days', COALESCE((
            SELECT json_agg(json_build_object(
                'date', to_char(x.date, 'YYYY-MM-DD'),
                'office', x.office,
                'booked', x.booked, 'checked_in', x.checked_in,
                'served', x.served, 'no_show', x.no_show,
                'cancelled', x.cancelled, 'quota', x.quota,
                'quota_filled',
                CASE WHEN x.quota > 0
                     THEN round((x.booked - x.cancelled)::numeric / x.quota,
                                4) END,
                'wait_median_seconds', round(x.wait_median::numeric, 1),
                'wait_p90_seconds', round(x.wait_p90::numeric, 1))
                ORDER BY x.date, x.office)
              FROM days x), '[]'::json),
        'deliveries', (
            SELECT json_agg(json_build_object(
                'date', to_char(d.date, 'YYYY-MM-DD'),
                'batched', COALESCE(b.batched, 0),
                'delivered', COALESCE(e.delivered, 0),
                'failed', COALESCE(e.failed, 0),
                'returned', COALESCE(e.returned, 0))
                ORDER BY d.date)
              FROM d LEFT JOIN b ON b.date = d.date
              LEFT JOIN e ON e.date = d.date),
        'budget', ops_delivery_budget(p_today))
$$;

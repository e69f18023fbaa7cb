-- 004: many applications one step in a few statements, and the kecamatan of an
-- application is a row of kecamatan.

-- 002 created kecamatan after 001 had created application, so the reference
-- could only come now.
ALTER TABLE application
    ADD CONSTRAINT application_kecamatan_code_fkey
    FOREIGN KEY (kecamatan_code) REFERENCES kecamatan (code);

-- application_transition() for a set of applications, by id: the same rules
-- (a row of application_transition, its delivery_method condition), the same
-- row updates (status, updated_at, completed_at) and one application_history
-- row for each application moved, in three statements instead of four per
-- application.
--
-- The rows are locked FOR UPDATE in id order, so that two callers, or a
-- caller and an operator, take them in the same order and cannot deadlock.
-- Once all are locked, the step is decided on their current status: none of
-- them can change under us any more.
--
-- Answers how many moved, and the ids given that did not (not found, or the
-- step is not allowed from the status the application is in now), each once,
-- in order; NULL when every one moved. An id given twice moves once. Nothing
-- is raised for a refused id: the caller decides, as with outcome 'conflict'
-- of application_transition().
CREATE FUNCTION application_transition_many(p_ids bigint[], p_to text,
                                            p_actor text, p_note text,
                                            OUT moved integer,
                                            OUT refused bigint[])
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM application a
     WHERE a.id = ANY (p_ids)
     ORDER BY a.id
       FOR UPDATE;

    -- a new snapshot: the status of every locked row as it is now.  The
    -- primary key of application_transition makes the join match at most one
    -- row per application, whose from_status is the status before the step.
    WITH step AS (
        UPDATE application a
           SET status = p_to, updated_at = now(),
               completed_at = CASE WHEN p_to = 'completed' THEN now()
                                   ELSE a.completed_at END
          FROM application_transition t
         WHERE a.id = ANY (p_ids)
           AND t.from_status = a.status AND t.to_status = p_to
           AND (t.delivery_method IS NULL
                OR t.delivery_method = a.delivery_method)
        RETURNING a.id, t.from_status
    ), history AS (
        INSERT INTO application_history (application_id, from_status,
                                         to_status, actor, note)
        SELECT s.id, s.from_status, p_to, p_actor, p_note
          FROM step s ORDER BY s.id
        RETURNING application_id
    )
    SELECT (SELECT count(*) FROM history),
           (SELECT array_agg(DISTINCT i ORDER BY i) FROM unnest(p_ids) i
             WHERE NOT EXISTS (SELECT 1 FROM history h
                                WHERE h.application_id = i))
      INTO moved, refused;
END
$$;

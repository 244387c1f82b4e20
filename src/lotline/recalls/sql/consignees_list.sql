-- Purpose: a case's consignees with their latest response, reminders sent and sampled check.
-- Parameters: %(case_id)s uuid, %(include_retired)s boolean; a page: %(after_depth)s integer,
--             %(after_name)s text, %(after_id)s uuid (the last row of the previous page, or NULLs)
--             and %(row_limit)s bigint (NULL: every row). Output: one row per consignee, ordered
--             by (depth, name, id), the key the page position compares with.
    SELECT k.id, k.depth, k.name, k.email, k.phone, k.parent_consignee_id, k.retired_at,
           cu.code AS customer, p.name AS forwarded_by,
           r.received_at AS responded_at, r.channel AS response_channel, r.holds_product,
           r.quantity_on_hand, r.quantity_returned, r.quantity_destroyed, r.forwarded,
           coalesce(rem.n, 0) AS reminders_sent, rem.last_at AS last_reminder_at,
           chk.result AS check_result, (chk.id IS NOT NULL) AS sampled
      FROM recall_consignees k
      LEFT JOIN customers cu ON cu.id = k.customer_id
      LEFT JOIN recall_consignees p ON p.id = k.parent_consignee_id
      LEFT JOIN LATERAL (SELECT * FROM recall_responses x WHERE x.consignee_id = k.id
                          ORDER BY x.received_at DESC, x.id DESC LIMIT 1) r ON true
      LEFT JOIN LATERAL (SELECT count(*) AS n, max(sent_at) AS last_at FROM recall_reminders y
                          WHERE y.consignee_id = k.id AND y.kind = 'reminder' AND y.status = 'sent') rem ON true
      LEFT JOIN recall_effectiveness_checks chk ON chk.consignee_id = k.id AND chk.recall_case_id = k.recall_case_id
     WHERE k.recall_case_id = %(case_id)s::uuid
       AND (%(include_retired)s::boolean OR k.retired_at IS NULL)
       AND (%(after_id)s::uuid IS NULL
            OR (k.depth, k.name, k.id) > (%(after_depth)s::integer, %(after_name)s::text, %(after_id)s::uuid))
     ORDER BY k.depth, k.name, k.id
     LIMIT %(row_limit)s::bigint
    

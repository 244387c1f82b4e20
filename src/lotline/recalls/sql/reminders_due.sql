-- Purpose: reminders and escalations due now (see recalls/flows/reminders.py for the rule).
-- Parameters: %(now)s timestamptz, %(only)s uuid (NULL = every consignee).
-- Output: consignee_id, case_id, kind ('reminder'|'escalation'), seq.
    WITH k AS (
        SELECT k.id AS consignee_id, k.email, c.id AS case_id, st.response_deadline, st.reminder_max,
               make_interval(hours => st.reminder_interval_hours) AS every, st.coordinator_email,
               (SELECT count(*) FROM recall_reminders r WHERE r.consignee_id = k.id AND r.kind = 'reminder') AS sent,
               (SELECT max(sent_at) FROM recall_reminders r WHERE r.consignee_id = k.id AND r.kind = 'reminder') AS last_at,
               EXISTS (SELECT 1 FROM recall_reminders r WHERE r.consignee_id = k.id AND r.kind = 'escalation') AS escalated
          FROM recall_consignees k
          JOIN recall_cases c ON c.id = k.recall_case_id AND c.status = 'active'
          JOIN recall_strategies st ON st.recall_case_id = c.id
         WHERE k.retired_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM recall_responses x WHERE x.consignee_id = k.id)
           AND st.response_deadline <= %(now)s::timestamptz
           AND (%(only)s::uuid IS NULL OR k.id = %(only)s::uuid)
    )
    SELECT consignee_id, case_id, 'reminder' AS kind, sent + 1 AS seq
      FROM k
     WHERE email IS NOT NULL AND sent < reminder_max
       AND coalesce(last_at + every, response_deadline) <= %(now)s::timestamptz
    UNION ALL
    SELECT consignee_id, case_id, 'escalation', 1
      FROM k
     WHERE sent >= reminder_max AND NOT escalated AND coordinator_email IS NOT NULL
       AND coalesce(last_at, response_deadline) + every <= %(now)s::timestamptz
     ORDER BY 2, 1, 3
    

-- Purpose: 7.53 consignee figures (responding, overdue, quantities reported), latest response each.
-- Parameters: %(case_id)s uuid, %(deadline)s timestamptz (NULL: no strategy). Output: one row.
    WITH k AS (
        SELECT k.id, k.depth, r.holds_product, r.quantity_on_hand, r.quantity_returned, r.quantity_destroyed,
               r.received_at, r.acknowledged
          FROM recall_consignees k
          LEFT JOIN LATERAL (SELECT * FROM recall_responses x WHERE x.consignee_id = k.id
                              ORDER BY x.received_at DESC, x.id DESC LIMIT 1) r ON true
         WHERE k.recall_case_id = %(case_id)s::uuid AND k.retired_at IS NULL
    )
    SELECT count(*) AS consignees,
           count(*) FILTER (WHERE depth = 1) AS direct_consignees,
           count(*) FILTER (WHERE depth > 1) AS sub_consignees,
           count(received_at) AS responding,
           count(*) - count(received_at) AS not_responding,
           count(*) FILTER (WHERE received_at IS NULL AND %(deadline)s::timestamptz <= now()) AS overdue,
           count(*) FILTER (WHERE holds_product) AS still_holding,
           coalesce(sum(quantity_on_hand), 0) AS reported_on_hand,
           coalesce(sum(quantity_returned), 0) AS reported_returned,
           coalesce(sum(quantity_destroyed), 0) AS reported_destroyed
      FROM k
    

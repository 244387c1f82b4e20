-- Purpose: open cases (draft/active) that already target every given lot.
-- Parameters: %(lot_ids)s uuid[]. Output: recall_number, status.
    SELECT c.recall_number, c.status
      FROM recall_cases c
     WHERE c.status IN ('draft', 'active')
       AND NOT EXISTS (SELECT 1 FROM unnest(%(lot_ids)s::uuid[]) AS x(lot_id)
                        WHERE NOT EXISTS (SELECT 1 FROM recall_case_targets t
                                           WHERE t.recall_case_id = c.id AND t.lot_id = x.lot_id))
     ORDER BY c.created_at
    

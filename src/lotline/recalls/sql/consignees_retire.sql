-- Purpose: retire depth-1 consignees no longer impacted by the run (their responses stay).
-- Parameters: %(case_id)s uuid, %(run_id)s uuid.
        UPDATE recall_consignees k SET retired_at = now(), retired_by_run_id = %(run_id)s::uuid
         WHERE k.recall_case_id = %(case_id)s::uuid AND k.depth = 1 AND k.retired_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM recall_impacted_shipments s
                            WHERE s.recall_trace_run_id = %(run_id)s::uuid AND s.customer_id = k.customer_id)
        

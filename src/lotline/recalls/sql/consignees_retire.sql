-- Purpose: retire depth-1 consignees no longer impacted by the run (their responses stay).
-- Parameters: %(case_id)s uuid, %(run_id)s uuid.
-- Shape: the run's customers are one hashed subplan (NOT IN; customer_id is never NULL), not a probe
--   per consignee: the run's rows were inserted moments ago, so the planner's statistics do not
--   know them, and a per-consignee probe read every impacted shipment of the run each time
--   (2,279 consignees x 8,031 shipments at scale 100: 2.1 s).
        UPDATE recall_consignees k SET retired_at = now(), retired_by_run_id = %(run_id)s::uuid
         WHERE k.recall_case_id = %(case_id)s::uuid AND k.depth = 1 AND k.retired_at IS NULL
           AND k.customer_id NOT IN (SELECT s.customer_id FROM recall_impacted_shipments s
                                      WHERE s.recall_trace_run_id = %(run_id)s::uuid)
        

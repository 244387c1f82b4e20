-- Purpose: make the impacted customers of a run depth-1 consignees of its case (new ones added,
-- retired ones revived). Parameters: %(case_id)s uuid, %(run_id)s uuid.
        INSERT INTO recall_consignees (id, recall_case_id, customer_id, depth, name, email, phone, added_by_run_id)
        SELECT gen_random_uuid(), %(case_id)s::uuid, c.id, 1, c.name, c.contact_email, c.contact_phone,
               %(run_id)s::uuid
          FROM (SELECT DISTINCT customer_id FROM recall_impacted_shipments
                 WHERE recall_trace_run_id = %(run_id)s::uuid) s
          JOIN customers c ON c.id = s.customer_id
        ON CONFLICT (recall_case_id, customer_id) WHERE customer_id IS NOT NULL
        DO UPDATE SET retired_at = NULL, retired_by_run_id = NULL
              WHERE recall_consignees.retired_at IS NOT NULL
        

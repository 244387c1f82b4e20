-- Purpose: a copy of the case's first drafted email notice. Parameters: %(case_id)s uuid.
    SELECT subject, body FROM recall_communications
     WHERE recall_case_id = %(case_id)s::uuid AND channel = 'email'
     ORDER BY created_at, id LIMIT 1
    

-- Put back the planner settings planner_set.sql changed (transaction-local).
-- Parameters: jit text, max_parallel_workers_per_gather text, enable_mergejoin text, work_mem text
SELECT set_config('jit', %(jit)s::text, true) AS jit,
       set_config('max_parallel_workers_per_gather', %(max_parallel_workers_per_gather)s::text, true)
           AS max_parallel_workers_per_gather,
       set_config('enable_mergejoin', %(enable_mergejoin)s::text, true) AS enable_mergejoin,
       set_config('work_mem', %(work_mem)s::text, true) AS work_mem

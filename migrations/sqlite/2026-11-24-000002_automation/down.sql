DROP TABLE email_unsubscribes;
DROP TABLE email_templates;
DROP TABLE emails;
DROP TABLE task_runs;
DROP TABLE scheduled_tasks;
DROP TABLE jobs;

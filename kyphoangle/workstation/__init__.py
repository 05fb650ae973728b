"""The workstation's services: the only door from the GUI and the command line to the study database.

Each module is one noun of the trial's work. `connection` opens the database and signs in; `access` is
who may do what and see which fields (every service asks it first); `records` holds the plain records
the reading windows exchange. The reading windows use `study_reads` (a site reader's reads and the
catalogue of films), `campaign_reads` (a central reader's blinded worklist), `adjudication` (the
adjudicator's cases) and `campaign_admin` (the campaign manager). The command line uses `accounts`,
`subjects`, `films`, `visits`, `reads`, `exports`, `campaigns`, `audit_trail`, `maintenance`,
`demo_study`, `exchange` (DICOM reports, the EDC exports, the monitoring report) and `pacs` (PACS nodes,
query, retrieve, send). Requests and results are frozen records; no database object leaves a session,
and nothing here imports Qt.
"""

"""The workstation's services: the only door from the GUI and the command line to the study database.

Each module is one noun of the trial's work: `connection` (opening the database, signing in), `access`
(who may do what and see which fields), `study_reads` (a site reader's reads of the study's films),
`campaign_reads` (a central reader's blinded worklist), `adjudication` (the adjudicator's cases) and
`campaign_admin` (creating, following, closing and exporting campaigns). Requests and results are
plain frozen records (`records`); no database object leaves a session. Nothing here imports Qt.
"""

"""What both targets share: settings, AWS clients, retries, warehouse sessions and the SQL loader,
the engine interface and the Redshift engine, load errors, the run window, resource names and tags,
secrets. Nothing here is a Prefect task, and nothing here knows the local twin (package `local`)."""

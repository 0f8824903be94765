"""The quick start's demo (a Django app of its own, never imported by the product): the demo tenant, users
and data (seed.py and one module per part), the generated demo files (invoices.py, data/), the pages to
download and send the demo invoices (mounted outside production only) and `manage.py quickstart`."""

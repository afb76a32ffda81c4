"""``factrace report``: one self-contained HTML page (figures embedded) and the CSV behind each figure."""

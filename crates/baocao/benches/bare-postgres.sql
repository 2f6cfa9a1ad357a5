CREATE TABLE units_2024 (code TEXT, name TEXT, type TEXT, level INTEGER, parent_code TEXT);
CREATE TABLE units_2025 (code TEXT, name TEXT, type TEXT, level INTEGER, parent_code TEXT);
CREATE TABLE conversion (old_code TEXT, old_district_code TEXT, old_province_code TEXT, partly INTEGER, new_code TEXT, new_province_code TEXT);
CREATE TABLE province_conversion (old_code TEXT, new_code TEXT);
\copy units_2024 FROM 'units-2024.csv' WITH (FORMAT csv, HEADER true)
\copy units_2025 FROM 'units-2025.csv' WITH (FORMAT csv, HEADER true)
\copy conversion FROM 'conversion-2025.csv' WITH (FORMAT csv, HEADER true)
\copy province_conversion FROM 'province-conversion-2025.csv' WITH (FORMAT csv, HEADER true)

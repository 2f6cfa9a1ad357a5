CREATE TABLE units_2024 (code TEXT, name TEXT, type TEXT, level INTEGER, parent_code TEXT);
CREATE TABLE units_2025 (code TEXT, name TEXT, type TEXT, level INTEGER, parent_code TEXT);
CREATE TABLE conversion (old_code TEXT, old_district_code TEXT, old_province_code TEXT, partly INTEGER, new_code TEXT, new_province_code TEXT);
CREATE TABLE province_conversion (old_code TEXT, new_code TEXT);
.import --csv --skip 1 units-2024.csv units_2024
.import --csv --skip 1 units-2025.csv units_2025
.import --csv --skip 1 conversion-2025.csv conversion
.import --csv --skip 1 province-conversion-2025.csv province_conversion

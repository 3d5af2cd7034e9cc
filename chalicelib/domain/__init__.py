"""Pure rules over plain data. Imports nothing from AWS, Chalice, PynamoDB or Firebase."""

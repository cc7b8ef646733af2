DROP TABLE account_members;
DROP TABLE staff_members;

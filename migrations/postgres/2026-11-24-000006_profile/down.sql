DROP TABLE client_profiles;

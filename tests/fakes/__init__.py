"""Stand-ins for the services around the application (an OpenID provider shaped like Keycloak),
real enough to run the application's own client code against them on loopback."""

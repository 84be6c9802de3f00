//! The ARM template expression language (`[concat(parameters('a'), 'b')]`) → expression tree.

//! Bicep and `.bicepparam` files, parsed with tree-sitter-bicep, lowered to the template model.

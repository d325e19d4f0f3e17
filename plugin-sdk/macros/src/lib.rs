//! `#[plugin]`: turn one function into a Sluice plugin.
//!
//! Accepted signatures:
//!
//! ```ignore
//! #[plugin] fn process(event: &mut Event) -> Result<Verdict, PluginError>
//! #[plugin] fn process(event: &mut Event, config: &MyConfig) -> Result<Verdict, PluginError>
//! ```
//!
//! Anything else is a compile error pointing at the offending part of the
//! signature. The function stays an ordinary function (call it from unit
//! tests); the macro adds a `SluicePlugin` type implementing
//! `sluice_plugin_sdk::Plugin` and exports it as the crate's component.

use proc_macro::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Type, parse_macro_input};

/// Make this function the crate's plugin. See the crate docs for signatures.
#[proc_macro_attribute]
pub fn plugin(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return syn::Error::new_spanned(attr, "#[plugin] takes no arguments")
            .to_compile_error()
            .into();
    }
    let function = parse_macro_input!(item as ItemFn);
    match expand(&function) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#function #error).into()
        }
    }
}

fn expand(function: &ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let sig = &function.sig;
    if let Some(asyncness) = sig.asyncness {
        return Err(syn::Error::new_spanned(
            asyncness,
            "a plugin function cannot be async: the host calls it synchronously",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "a plugin function cannot be generic",
        ));
    }
    let output = match &sig.output {
        ReturnType::Type(_, ty) => ty,
        ReturnType::Default => {
            return Err(syn::Error::new_spanned(
                sig,
                "a plugin function returns `Result<Verdict, PluginError>`",
            ));
        }
    };

    let inputs: Vec<&FnArg> = sig.inputs.iter().collect();
    let (event_ty, config_ty) = match inputs.as_slice() {
        [event] => (typed_arg(event)?, None),
        [event, config] => (typed_arg(event)?, Some(typed_arg(config)?)),
        _ => {
            return Err(syn::Error::new_spanned(
                &sig.inputs,
                "a plugin function takes `event: &mut Event` and optionally `config: &YourConfig`",
            ));
        }
    };
    match event_ty {
        Type::Reference(reference) if reference.mutability.is_some() => {}
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "take the event by mutable reference (`event: &mut Event`), change it in place \
                 and answer `Verdict::Changed` when you did",
            ));
        }
    }
    let config_inner = match config_ty {
        None => None,
        Some(Type::Reference(reference)) if reference.mutability.is_none() => {
            Some(&*reference.elem)
        }
        Some(other) => {
            return Err(syn::Error::new_spanned(
                other,
                "take the config by shared reference: `config: &YourConfig`",
            ));
        }
    };

    let name = &sig.ident;
    // Spanned at the author's types, so a type mismatch points at their code.
    let event_check = quote_spanned! {event_ty.span()=>
        const _: fn(#event_ty) -> &mut ::sluice_plugin_sdk::Event = |e| e;
    };
    let output_check = quote_spanned! {output.span()=>
        const _: fn(#output) -> ::std::result::Result<::sluice_plugin_sdk::Verdict, ::sluice_plugin_sdk::PluginError> = |r| r;
    };
    let (config_type, call) = match config_inner {
        Some(inner) => (
            quote_spanned! {inner.span()=> #inner},
            quote_spanned! {output.span()=> #name(event, &self.0) },
        ),
        None => (
            quote! { ::sluice_plugin_sdk::NoConfig },
            quote_spanned! {output.span()=> { let _ = &self.0; #name(event) } },
        ),
    };

    Ok(quote! {
        #function

        #event_check
        #output_check

        /// The plugin `#[plugin]` made of this crate's function; run it
        /// natively with `sluice_plugin_sdk::testing::Harness::<SluicePlugin>`.
        #[allow(dead_code)]
        pub(crate) struct SluicePlugin(#config_type);

        impl ::sluice_plugin_sdk::Plugin for SluicePlugin {
            type Config = #config_type;

            fn new(
                config: Self::Config,
                _context: &::sluice_plugin_sdk::InitContext,
            ) -> ::std::result::Result<Self, ::sluice_plugin_sdk::ConfigError> {
                ::std::result::Result::Ok(SluicePlugin(config))
            }

            fn process(
                &mut self,
                event: &mut ::sluice_plugin_sdk::Event,
                _out: &mut ::sluice_plugin_sdk::Output,
            ) -> ::std::result::Result<::sluice_plugin_sdk::Verdict, ::sluice_plugin_sdk::PluginError> {
                #call
            }
        }

        ::sluice_plugin_sdk::export_plugin!(SluicePlugin);
    })
}

fn typed_arg(arg: &FnArg) -> syn::Result<&Type> {
    match arg {
        FnArg::Typed(pat) => Ok(&pat.ty),
        FnArg::Receiver(receiver) => Err(syn::Error::new_spanned(
            receiver,
            "a plugin function is a free function, not a method; implement `Plugin` for state",
        )),
    }
}

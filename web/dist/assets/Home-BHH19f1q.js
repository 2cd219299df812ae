import{A as e,n}from"./index-mwuP5ZPs.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
